# A separate binder (as systemd socket activation is): bind and listen on PATH, then fork;
# the child puts the listener on stdin and execs the daemon; the binder stays alive.
import os, socket, sys
path = sys.argv[1]
try: os.unlink(path)
except OSError: pass
l = socket.socket(socket.AF_UNIX); l.bind(path); os.chmod(path, 0o777); l.listen(64)
pid = os.fork()
if pid == 0:
    os.dup2(l.fileno(), 0); l.close(); os.execv(sys.argv[2], sys.argv[2:])
l.close(); print(pid, flush=True); os.waitpid(pid, 0)
