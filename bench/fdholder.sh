#!/bin/sh
# bench/fdholder.sh — the fd-holding daemon, ours (ipcfdholderd) vs s6-fdholderd, in
# the same run.
#
# Both daemons run side by side, started by their launchers (ipcfdholder-daemon,
# s6-fdholder-daemon) with the same rules. One client (`ipcbench fdholder`, the raw
# s6-fdholder protocol, so that no process start is measured) does PAIRS store+retrieve
# pairs against each daemon in turn, alternating the order from round to round: store the
# write end of a pipe under a fresh identifier, then retrieve it with delete (as
# s6-fdholder-retrieve -D) and close it. Each operation is one connection, as s6's
# clients do it. Two measures per round and daemon: the daemon's own CPU time per
# pair (/proc/PID/schedstat: that task only, little affected by other load) and the
# operations per second seen by the client (wall clock: noisy on a shared machine).
# The table gives the median over rounds and the ratio ours/s6.
#
# Usage: bench/fdholder.sh   (environment: ROUNDS=7 PAIRS=2000, TARGET=dir of the
#                             built binaries, BENCH_TMP=scratch dir, IPCBENCH=the
#                             client; run.sh sets the last three when it runs this as a
#                             hook)
# Needs s6 (s6-fdholder-daemon); the client is built unless IPCBENCH is given. Bounded:
# every socket operation has a 10 s deadline, each client run is under `timeout`.
set -eu

ROUNDS=${ROUNDS:-7}
PAIRS=${PAIRS:-2000}
. "$(dirname "$0")/lib.sh"
bench_setup ipcfdh s6-fdholder-daemon ipcfdholder-daemon ipcfdholderd

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

# One client run per daemon and round, the order alternating from round to round.
res=$tmp/results
: >"$res"
r=0
while [ "$r" -lt "$ROUNDS" ]; do
  if [ $((r % 2)) = 0 ]; then order="ours s6"; else order="s6 ours"; fi
  for name in $order; do
    line=$(timeout 3600 "$IPCBENCH" fdholder -n "$PAIRS" -t 10 "$tmp/$name.sock" "$(cat "$tmp/$name.pid")") || {
      echo "fdholder.sh: the client failed against $name" >&2
      exit 111
    }
    echo "name=$name $line" >>"$res"
  done
  r=$((r + 1))
done

echo "fd holder: $ROUNDS rounds x $PAIRS store+retrieve pairs, one connection per operation"
awk '
function median(a, n,   i, j, t) {
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function med(name, key,   n, i, a) {
  n = cnt[name, key]
  for (i = 1; i <= n; i++) a[i] = val[name, key, i]
  return median(a, n)
}
{
  delete f
  for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
  for (k in f) if (k != "name") { n = ++cnt[f["name"], k]; val[f["name"], k, n] = f[k] }
}
END {
  printf "%-34s%12s%12s%10s\n", "metric", "ours", "s6", "ours/s6"
  a = med("ours", "cpu_us_per_pair"); b = med("s6", "cpu_us_per_pair")
  printf "%-34s%12.1f%12.1f%10.2f\n", "daemon CPU per pair (us)", a, b, (b > 0 ? a / b : 0)
  a = med("ours", "ops_per_s"); b = med("s6", "ops_per_s")
  printf "%-34s%12.1f%12.1f%10.2f\n", "operations per second", a, b, (b > 0 ? a / b : 0)
}' "$res"
