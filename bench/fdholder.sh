#!/bin/sh
# bench/fdholder.sh — the fd-holding daemon, ours (ipcfdholderd) vs s6-fdholderd, in
# the same run.
#
# Both daemons run side by side, started by their launchers (ipcfdholder-daemon,
# s6-fdholder-daemon) with the same rules. One client (python3, the raw s6-fdholder
# protocol, so that no process start is measured) does PAIRS store+retrieve pairs
# against each daemon in turn, alternating the order from round to round: store the
# write end of a pipe under a fresh identifier, then retrieve it with delete (as
# s6-fdholder-retrieve -D) and close it. Each operation is one connection, as s6's
# clients do it. Two measures per round and daemon: the daemon's own CPU time per
# pair (/proc/PID/schedstat: that task only, little affected by other load) and the
# operations per second seen by the client (wall clock: noisy on a shared machine).
# The table gives the median over rounds and the ratio ours/s6.
#
# Usage: bench/fdholder.sh   (environment: ROUNDS=7 PAIRS=2000, TARGET=dir of the
#                             built binaries, BENCH_TMP=scratch dir; run.sh sets the
#                             last two when it runs this as a hook)
# Needs s6 (s6-fdholder-daemon) and python3 >= 3.9 (socket.send_fds). Bounded: every
# socket operation has a 10 s deadline, the client runs under `timeout`.
set -eu

ROUNDS=${ROUNDS:-7}
PAIRS=${PAIRS:-2000}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. bench/lib.sh
S6=$(command -v s6-fdholder-daemon || true)
[ -n "$S6" ] || { echo "fdholder.sh: s6-fdholder-daemon not installed (apt-get install s6)" >&2; exit 111; }
PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "fdholder.sh: python3 missing" >&2; exit 111; }
for f in ipcfdholder-daemon ipcfdholderd; do
  [ -x "$TARGET/$f" ] || { echo "fdholder.sh: $TARGET/$f not built" >&2; exit 111; }
done

tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/ipcfdh.XXXXXX")
pids=
cleanup() {
  for p in $pids; do kill -TERM "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

me=$(id -u)
mkdir -p "$tmp/rules/uid/$me/env"
: >"$tmp/rules/uid/$me/allow"
echo '^bench:' >"$tmp/rules/uid/$me/env/S6_FDHOLDER_STORE_REGEX"
echo '^bench:' >"$tmp/rules/uid/$me/env/S6_FDHOLDER_RETRIEVE_REGEX"

start() { # name launcher
  mkfifo "$tmp/$1.ready"
  "$2" -1 -n 10000 -i "$tmp/rules" "$tmp/$1.sock" >"$tmp/$1.ready" 2>"$tmp/$1.log" &
  pids="$pids $!"
  echo $! >"$tmp/$1.pid"
  read -r _ <"$tmp/$1.ready" || { echo "fdholder.sh: $1 never became ready" >&2; cat "$tmp/$1.log" >&2; exit 111; }
}
start ours "$TARGET/ipcfdholder-daemon"
start s6 "$S6"

timeout 3600 "$PY" - "$ROUNDS" "$PAIRS" "$tmp/ours.sock" "$(cat "$tmp/ours.pid")" \
  "$tmp/s6.sock" "$(cat "$tmp/s6.pid")" <<'PYEOF'
import os, socket, struct, sys, time, statistics

rounds, pairs = int(sys.argv[1]), int(sys.argv[2])
daemons = {"ours": (sys.argv[3], int(sys.argv[4])), "s6": (sys.argv[5], int(sys.argv[6]))}
NEVER = struct.pack(">QI", (1 << 62) + (1 << 61) + int(time.time()), 0)

def frame(data, nfds=0):
    return struct.pack(">IH", len(data), nfds) + data

def recv_answer(s):
    buf, fds = b"", []
    while len(buf) < 6 or len(buf) < 6 + struct.unpack(">I", buf[:4])[0]:
        data, got, _, _ = socket.recv_fds(s, 4096, 4)
        if not data:
            raise RuntimeError("connection closed")
        buf += data
        fds += got
    return buf[6:], fds

def op(path, data, fds=()):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(path)
    socket.send_fds(s, [frame(data, len(fds))], list(fds))
    ans, got = recv_answer(s)
    s.close()
    return ans, got

def cpu_ns(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])

r, w = os.pipe()
results = {k: {"cpu": [], "ops": []} for k in daemons}
n = 0
for rnd in range(rounds):
    order = list(daemons) if rnd % 2 == 0 else list(reversed(list(daemons)))
    for name in order:
        path, pid = daemons[name]
        c0, t0 = cpu_ns(pid), time.monotonic()
        for _ in range(pairs):
            n += 1
            ident = b"bench:%d" % n
            idf = bytes([len(ident)]) + ident + b"\0"
            ans, _ = op(path, b"S" + NEVER + idf, [w])
            assert ans == b"\0", (name, ans)
            ans, got = op(path, b"R\x01" + idf)
            assert ans == b"\0" and len(got) == 1, (name, ans)
            os.close(got[0])
        t1, c1 = time.monotonic(), cpu_ns(pid)
        results[name]["cpu"].append((c1 - c0) / pairs / 1000)
        results[name]["ops"].append(2 * pairs / (t1 - t0))

print(f"fd holder: {rounds} rounds x {pairs} store+retrieve pairs, one connection per operation")
print(f"{'metric':<34}{'ours':>12}{'s6':>12}{'ours/s6':>10}")
for key, label in (("cpu", "daemon CPU per pair (us)"), ("ops", "operations per second")):
    a = statistics.median(results["ours"][key])
    b = statistics.median(results["s6"][key])
    print(f"{label:<34}{a:>12.1f}{b:>12.1f}{a / b:>10.2f}")
PYEOF
