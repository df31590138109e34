#!/bin/sh
# Subscribe → notify → return latency: npt-wait against s6's waiters, in the same run.
#
#   bench/npt.sh [iterations]        (default 300; needs s6 and python3)
#
# Two measurements, each interleaving ours and s6's so that both see the same machine:
#  wait:    start the waiter, spin until its fifo appears in the fifodir, write the
#           event to it from the driver itself (as s6-ftrig-notify would, but with no
#           process of its own), wait for the waiter to exit (npt-wait vs s6-ftrig-wait);
#  listen1: the waiter runs s6-ftrig-notify itself once subscribed
#           (npt-wait DIR RE prog vs s6-ftrig-listen1 DIR RE prog).
# Times are wall clock, end to end, process creation included. Uses $TARGET, or builds
# the release binaries (bench/lib.sh).
set -eu
cd "$(dirname "$0")/.."
top=$PWD
n="${1:-300}"
. bench/lib.sh
bin=$TARGET
dir=$(mktemp -d /tmp/nptbench.XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM
"$bin/npt-mkfifodir" "$dir/ev"
exec python3 - "$n" "$bin" "$dir/ev" <<'PY'
import os, subprocess, sys, time
n, bindir, fd = int(sys.argv[1]), sys.argv[2], sys.argv[3]
nw = os.path.join(bindir, "npt-wait")
notify = ["s6-ftrig-notify", fd, "x"]
devnull = [(os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0)]
def fifos():
    return [e for e in os.listdir(fd) if e.startswith("ftrig1:@")]
def notify_here(names):
    # What s6-ftrig-notify does, without a process: the waiter is all that is measured.
    for n in names:
        f = os.open(os.path.join(fd, n), os.O_WRONLY | os.O_NONBLOCK)
        os.write(f, b"x")
        os.close(f)
def spawn(argv):
    # posix_spawn: no fork of the Python interpreter in the measured path.
    return os.posix_spawnp(argv[0], argv, os.environ, file_actions=devnull)
def reap(pid, argv):
    if os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) != 0:
        sys.exit("failed: %r" % argv)
def wait_case(argv):
    t0 = time.perf_counter_ns()
    pid = spawn(argv)
    while not (names := fifos()):
        os.sched_yield()
    notify_here(names)
    reap(pid, argv)
    return time.perf_counter_ns() - t0
def listen1_case(argv):
    t0 = time.perf_counter_ns()
    reap(spawn(argv + notify), argv)
    return time.perf_counter_ns() - t0
cases = [
    ("wait", "npt-wait", lambda: wait_case([nw, "-t", "5000", fd, "x"])),
    ("wait", "s6-ftrig-wait", lambda: wait_case(["s6-ftrig-wait", "-t", "5000", fd, "x"])),
    ("listen1", "npt-wait prog", lambda: listen1_case([nw, "-t", "5000", fd, "x"])),
    ("listen1", "s6-ftrig-listen1", lambda: listen1_case(["s6-ftrig-listen1", "-t", "5000", fd, "x"])),
]
res = {c[1]: [] for c in cases}
for _ in range(10):
    for _, name, f in cases:
        f()
for _ in range(n):
    for _, name, f in cases:
        res[name].append(f())
def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(len(v) * p))] / 1e6
print("%d iterations, ms (p50 / p90 / p99)" % n)
for kind, name, _ in cases:
    v = res[name]
    print("%-8s %-17s %6.3f / %6.3f / %6.3f" % (kind, name, pct(v, .5), pct(v, .9), pct(v, .99)))
for a, b in (("npt-wait", "s6-ftrig-wait"), ("npt-wait prog", "s6-ftrig-listen1")):
    print("ratio p50 %s / %s: %.2f" % (a, b, pct(res[a], .5) / pct(res[b], .5)))
PY
