# The daemon under test. On stderr: "pid N", "env NOTIFY_SOCKET-or--", "fds 0 1 2 ...".
# Then its arguments in order: write:N (a newline on fd N), close:N, send:MSG (a
# datagram to $NOTIFY_SOCKET, with \n escapes), sendfd (a datagram carrying a pipe's
# write end; then "passed-fd closed" once the receiver has let go of it, or
# "passed-fd kept" after 20 s), exit. Then, unless it exited, it reaps a child (a
# watcher forked with -f: "child CODE") or, having none, sleeps until killed.
import array, codecs, os, select, socket, sys, time

def say(*a):
    print(*a, file=sys.stderr, flush=True)

def is_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False

say("pid", os.getpid())
say("env", os.environ.get("NOTIFY_SOCKET", "-"))
say("fds", " ".join(str(f) for f in range(64) if is_open(f)))
def notify_socket():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.connect(os.environ["NOTIFY_SOCKET"].replace("@", "\0", 1))
    return s

for a in sys.argv[1:]:
    verb, _, arg = a.partition(":")
    if verb == "write":
        os.write(int(arg), b"\n")
    elif verb == "close":
        os.close(int(arg))
    elif verb == "send":
        notify_socket().send(codecs.decode(arg, "unicode_escape").encode())
    elif verb == "sendfd":
        r, w = os.pipe()
        fds = array.array("i", [w])
        notify_socket().sendmsg([b"STATUS=fd\n"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, fds)])
        os.close(w)
        # End of file once no copy of w is left: the receiver's was closed.
        gone = select.select([r], [], [], 20)[0] and os.read(r, 1) == b""
        say("passed-fd", "closed" if gone else "kept")
    elif verb == "exit":
        sys.exit(0)
try:
    pid, status = os.wait()
    say("child", os.waitstatus_to_exitcode(status))
except ChildProcessError:
    while True:
        time.sleep(60)
