# Runs argv as a child subreaper and prints, on stdout, "main CODE" for that child and
# "other CODE" for every orphan that comes to it (a watcher). Once an orphan has exited,
# main is sent SIGTERM (it only holds its fds open until then).
import ctypes, os, signal, sys

ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
main = os.fork()
if main == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
alive = True
while True:
    try:
        pid, status = os.wait()
    except ChildProcessError:
        break
    code = os.waitstatus_to_exitcode(status)
    if pid == main:
        alive = False
        print("main", code, flush=True)
    else:
        print("other", code, flush=True)
        if alive:
            os.kill(main, signal.SIGTERM)
