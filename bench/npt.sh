#!/bin/sh
# Subscribe → notify → return latency: npt-wait against s6's waiters, in the same run.
#
#   bench/npt.sh [iterations]        (default 300; needs s6)
#
# Two measurements, each interleaving ours and s6's so that both see the same machine:
#  wait:    start the waiter, spin until its fifo appears in the fifodir, write the
#           event to it from the driver itself (as s6-ftrig-notify would, but with no
#           process of its own), wait for the waiter to exit (npt-wait vs s6-ftrig-wait);
#  listen1: the waiter runs s6-ftrig-notify itself once subscribed
#           (npt-wait DIR RE prog vs s6-ftrig-listen1 DIR RE prog).
# Times are wall clock, end to end, process creation included; the driver is
# `ipcbench time` (its -f: notify the fifodir once the waiter has subscribed). Uses
# $TARGET and $IPCBENCH, or builds them (bench/lib.sh).
set -eu
cd "$(dirname "$0")/.."
top=$PWD
n="${1:-300}"
. bench/lib.sh
bin=$TARGET
need_ipcbench
dir=$(mktemp -d /tmp/nptbench.XXXXXX)
trap 'rm -rf "$dir"' EXIT INT TERM
"$bin/npt-mkfifodir" "$dir/ev"
ev=$dir/ev
nw=$bin/npt-wait
"$IPCBENCH" time -n "$n" -w 10 -e x \
  -- -f "$ev" npt-wait "$nw" -t 5000 "$ev" x \
  -- -f "$ev" s6-ftrig-wait s6-ftrig-wait -t 5000 "$ev" x \
  -- "npt-wait prog" "$nw" -t 5000 "$ev" x s6-ftrig-notify "$ev" x \
  -- s6-ftrig-listen1 s6-ftrig-listen1 -t 5000 "$ev" x s6-ftrig-notify "$ev" x >"$dir/times"
awk -F '\t' -v n="$n" '
{ name[NR] = $1; p50[$1] = $5; p90[$1] = $6; p99[$1] = $7 }
END {
  printf "%d iterations, ms (p50 / p90 / p99)\n", n
  for (i = 1; i <= NR; i++)
    printf "%-8s %-17s %6.3f / %6.3f / %6.3f\n", (i <= 2 ? "wait" : "listen1"), name[i], p50[name[i]], p90[name[i]], p99[name[i]]
  printf "ratio p50 %s / %s: %.2f\n", "npt-wait", "s6-ftrig-wait", p50["npt-wait"] / p50["s6-ftrig-wait"]
  printf "ratio p50 %s / %s: %.2f\n", "npt-wait prog", "s6-ftrig-listen1", p50["npt-wait prog"] / p50["s6-ftrig-listen1"]
}' "$dir/times"
