#!/bin/sh
# Relay throughput and CPU: ipcioconnect vs s6-ioconnect vs socat.
#
# One ipcserver serves SIZE_MB MiB of zeros per connection (`dd bs=1M` from /dev/zero,
# so the source is the same for every relay). Each run is a client that relays the
# connection to its stdout, a pipe read by `dd bs=1M of=/dev/null`:
#   ours:  ipcclient SOCK ipcioconnect
#   s6:    s6-ipcclient SOCK s6-ioconnect
#   socat: socat -t 3600 - UNIX-CONNECT:SOCK
# (socat's -t: after the end of its stdin, /dev/null here, socat would otherwise stop
# relaying the other direction after 0.5 s; with -t it exits when the server closes, as
# the other two do.) Runs alternate ours, s6, socat, ROUNDS times. /usr/bin/time
# measures the client process alone (ipcclient execs the relay, so it is one process):
# elapsed, user and system time. The table gives, per relay, the median throughput in
# MiB/s and the median CPU seconds (user+system) per GiB, and ours as a ratio of each
# peer. Targets: throughput >= 1.5x s6-ioconnect and >= 1.1x socat; CPU per GiB below
# both.
#
# Usage: bench/ioconnect.sh       (environment: SIZE_MB=1024 ROUNDS=5,
#                                  BIN (default $TARGET, else the release build of bench/lib.sh))
# Check that splice is used: STRACE=1 bench/ioconnect.sh prints `strace -c -f` of one
# ours run (slow: strace itself costs time; not part of the table).
set -eu
SIZE_MB=${SIZE_MB:-1024}
ROUNDS=${ROUNDS:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
# Given BIN, bench/lib.sh builds nothing.
TARGET=${BIN:-${TARGET:-}}
. "$top/bench/lib.sh"
BIN=$TARGET
BIN=$(cd "$BIN" && pwd)
for p in "$BIN/ipcserver" "$BIN/ipcclient" "$BIN/ipcioconnect" s6-ipcclient s6-ioconnect socat dd /usr/bin/time; do
  command -v "$p" >/dev/null || { echo "bench/ioconnect.sh: missing $p" >&2; exit 100; }
done
dir=$(mktemp -d /tmp/ipcbench.XXXXXX)
spid=
trap '[ -z "$spid" ] || kill "$spid" 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
"$BIN/ipcserver" -1 "$dir/s" dd if=/dev/zero bs=1M count="$SIZE_MB" status=none > "$dir/ready" &
spid=$!
wait_ready "$dir/ready"
S=$dir/s

# One run of relay $1: append "elapsed user system bytes" to $dir/$1.
one() {
  name=$1; shift
  /usr/bin/time -f '%e %U %S' -o "$dir/t" "$@" < /dev/null | dd bs=1M of=/dev/null 2> "$dir/dd"
  bytes=$(sed -n 's/^\([0-9]*\) bytes.*/\1/p' "$dir/dd")
  [ "$bytes" = $((SIZE_MB * 1048576)) ] || { echo "$name: got ${bytes:-?} bytes" >&2; cat "$dir/dd" >&2; exit 111; }
  echo "$(cat "$dir/t") $bytes" >> "$dir/$name"
}

if [ "${STRACE:-0}" = 1 ]; then
  strace -c -f -o "$dir/strace" "$BIN/ipcclient" "$S" "$BIN/ipcioconnect" < /dev/null | dd bs=1M of=/dev/null status=none
  cat "$dir/strace"
fi

r=0
while [ $r -lt "$ROUNDS" ]; do
  one ours "$BIN/ipcclient" "$S" "$BIN/ipcioconnect"
  one s6 s6-ipcclient "$S" s6-ioconnect
  one socat socat -t 3600 - "UNIX-CONNECT:$S"
  r=$((r + 1))
done

# median of column $2 (an awk expression over $1 elapsed, $2 user, $3 sys, $4 bytes) in file $1
median() {
  awk "{ print $2 }" "$1" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
printf '%-8s %12s %14s\n' relay 'MiB/s' 'CPU s/GiB'
for n in ours s6 socat; do
  t=$(median "$dir/$n" '($4 / 1048576) / ($1 > 0 ? $1 : 0.001)')
  c=$(median "$dir/$n" '($2 + $3) / ($4 / 1073741824)')
  printf '%-8s %12.1f %14.3f\n' "$n" "$t" "$c"
  eval "tp_$n=$t cpu_$n=$c"
done
awk -v o="$tp_ours" -v s="$tp_s6" -v x="$tp_socat" -v co="$cpu_ours" -v cs="$cpu_s6" -v cx="$cpu_socat" 'BEGIN {
  printf "throughput ours/s6-ioconnect %.2fx (target >= 1.5), ours/socat %.2fx (target >= 1.1)\n", o / s, o / x
  printf "CPU per GiB ours/s6-ioconnect %.2f, ours/socat %.2f (target < 1 for both)\n", (cs > 0 ? co / cs : 0), (cx > 0 ? co / cx : 0)
}'
