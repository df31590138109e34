#!/bin/sh
# Chain-loading overhead of ipcclient vs s6-ipcclient.
#
# One server runs for the whole benchmark (s6-ipcserver, or ours with SERVER=ipcserver),
# its handler is `true`. We time `true`, `ipcclient SOCK true` and
# `s6-ipcclient SOCK true`, alternating, RUNS times each (`ipcbench time`), and print
# for each client the extra time over plain `true` (median and mean), and ours as a
# multiple of s6's.
#
# Usage: bench/ipcclient.sh
# Environment: RUNS (default 1000), BIN (default $TARGET, else the release build of bench/lib.sh), SERVER,
# IPCBENCH (the timing client, else built by bench/lib.sh).
set -eu
RUNS=${RUNS:-1000}
top=$(cd "$(dirname "$0")/.." && pwd)
# Given BIN, bench/lib.sh builds nothing but the client.
TARGET=${BIN:-${TARGET:-}}
. "$top/bench/lib.sh"
BIN=$TARGET
need_ipcbench || exit 111
BIN=$(cd "$BIN" && pwd)
SERVER=${SERVER:-s6-ipcserver}
for p in "$BIN/ipcclient" s6-ipcclient "$SERVER"; do
  command -v "$p" >/dev/null || { echo "bench/ipcclient.sh: missing $p" >&2; exit 100; }
done
case $SERVER in ipcserver) SERVER=$BIN/ipcserver ;; esac
dir=$(mktemp -d /tmp/ipcbench.XXXXXX)
trap 'kill "$spid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
"$SERVER" -1 -c 100 "$dir/s" true > "$dir/ready" &
spid=$!
wait_ready "$dir/ready"
TRUE=true
"$IPCBENCH" time -n "$RUNS" -w 20 -- true "$TRUE" -- ipcclient "$BIN/ipcclient" "$dir/s" "$TRUE" \
  -- s6-ipcclient "$(command -v s6-ipcclient)" "$dir/s" "$TRUE" >"$dir/times"
awk -F '\t' -v runs="$RUNS" '
{ med[$1] = $3; mean[$1] = $4 }
END {
  printf "runs each: %d (alternating)\n", runs
  printf "%-14s %10s %10s %11s %12s\n", "", "median ms", "mean ms", "extra(med)", "extra(mean)"
  split("true ipcclient s6-ipcclient", k, " ")
  for (i = 1; i <= 3; i++)
    printf "%-14s %10.3f %10.3f %11.3f %12.3f\n", k[i], med[k[i]], mean[k[i]], med[k[i]] - med["true"], mean[k[i]] - mean["true"]
  dm = med["s6-ipcclient"] - med["true"]; da = mean["s6-ipcclient"] - mean["true"]
  printf "ipcclient extra / s6-ipcclient extra: %.2fx (median), %.2fx (mean); target <= 1.0x\n", \
    (dm != 0 ? (med["ipcclient"] - med["true"]) / dm : 0), (da != 0 ? (mean["ipcclient"] - mean["true"]) / da : 0)
}' "$dir/times"
