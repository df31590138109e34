#!/bin/sh
# Chain-loading overhead of ipcclient vs s6-ipcclient.
#
# One server runs for the whole benchmark (s6-ipcserver, or ours with SERVER=ipcserver),
# its handler is `true`. We time `true`, `ipcclient SOCK true` and
# `s6-ipcclient SOCK true`, alternating, RUNS times each, and print for each client the
# extra time over plain `true` (median and mean), and ours as a multiple of s6's.
#
# Usage: bench/ipcclient.sh
# Environment: RUNS (default 1000), BIN (default $TARGET, else the release build of bench/lib.sh), SERVER.
set -eu
RUNS=${RUNS:-1000}
top=$(cd "$(dirname "$0")/.." && pwd)
[ -n "${BIN:-}" ] || { . "$top/bench/lib.sh"; BIN=$TARGET; }
BIN=$(cd "$BIN" && pwd)
SERVER=${SERVER:-s6-ipcserver}
for p in "$BIN/ipcclient" s6-ipcclient python3 "$SERVER"; do
  command -v "$p" >/dev/null || { echo "bench/ipcclient.sh: missing $p" >&2; exit 100; }
done
case $SERVER in ipcserver) SERVER=$BIN/ipcserver ;; esac
dir=$(mktemp -d /tmp/ipcbench.XXXXXX)
trap 'kill "$spid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
"$SERVER" -1 -c 100 "$dir/s" true > "$dir/ready" &
spid=$!
i=0
while [ ! -s "$dir/ready" ]; do
  i=$((i + 1)); [ $i -lt 500 ] || { echo "server did not start" >&2; exit 111; }
  sleep 0.01
done
TRUE=true
python3 - "$RUNS" "$TRUE" "$BIN/ipcclient" "$(command -v s6-ipcclient)" "$dir/s" <<'PY'
import os, sys, time, statistics
runs, true, ours, s6, sock = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
cmds = {"true": [true], "ipcclient": [ours, sock, true], "s6-ipcclient": [s6, sock, true]}
times = {k: [] for k in cmds}
env = dict(os.environ)
for _ in range(20):  # warm-up: page cache, server's first spawns
    for argv in cmds.values():
        os.waitpid(os.posix_spawnp(argv[0], argv, env), 0)
for _ in range(runs):
    for name, argv in cmds.items():
        t = time.perf_counter_ns()
        pid = os.posix_spawnp(argv[0], argv, env)
        _, st = os.waitpid(pid, 0)
        times[name].append(time.perf_counter_ns() - t)
        if st != 0:
            sys.exit(f"{name} failed: status {st}")
med = {k: statistics.median(v) / 1e6 for k, v in times.items()}
mean = {k: statistics.fmean(v) / 1e6 for k, v in times.items()}
print(f"runs each: {runs} (alternating)")
print(f"{'':14} {'median ms':>10} {'mean ms':>10} {'extra(med)':>11} {'extra(mean)':>12}")
for k in cmds:
    print(f"{k:14} {med[k]:10.3f} {mean[k]:10.3f} {med[k]-med['true']:11.3f} {mean[k]-mean['true']:12.3f}")
r_med = (med["ipcclient"] - med["true"]) / (med["s6-ipcclient"] - med["true"])
r_mean = (mean["ipcclient"] - mean["true"]) / (mean["s6-ipcclient"] - mean["true"])
print(f"ipcclient extra / s6-ipcclient extra: {r_med:.2f}x (median), {r_mean:.2f}x (mean); target <= 1.0x")
PY
