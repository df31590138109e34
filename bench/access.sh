#!/bin/sh
# bench/access.sh — added cost per connection of `ipcserver-access -x rules.cdb` in
# front of /bin/cat, ours vs s6-ipcserver-access, in the same run.
#
# Three services run behind the same server (our ipcserver), so the only difference is
# the access program chain-loaded before /bin/cat:
#   base: ipcserver -1 S /bin/cat
#   ours: ipcserver -1 S ipcserver-access -x rules.cdb /bin/cat
#   s6:   ipcserver -1 S s6-ipcserver-access -x rules.cdb /bin/cat
# Each round drives CONNS sequential connections at each service, in an order that
# rotates from round to round; a connection writes 64 bytes, shuts down its write side and reads the echo to
# EOF, so it counts only once the whole chain has run. Two measures: wall time per
# connection (what a client waits; noisy on a shared machine), and the CPU time of the
# handler processes (user+system, from the server's cutime/cstime in /proc/PID/stat,
# which sums its reaped children: little affected by other load). Added cost = the
# service's figure minus base's in the same round; the table gives the median over
# rounds and the ratio ours/s6 (target: at most 1.0).
#
# The rules: 50 uid rules, 10 gid rules and uid/default, compiled by ipcrules-cdb; the
# client (uid of the caller) matches only uid/default, the longest lookup (5 keys when
# run as root: uid/self, uid/N, gid/self, gid/N, uid/default, with self absent).
#
# Usage: bench/access.sh    (environment: ROUNDS=9 CONNS=500, TARGET=dir
#                            of the built binaries, BENCH_TMP=scratch dir, IPCBENCH=the
#                            client; run.sh sets the last four when it runs this as a hook)
# Standalone: needs s6 (s6-ipcserver-access). The client is `ipcbench load -c 1`
# (crates/ipcbench, built unless IPCBENCH is given). Bounded: every service runs under
# `timeout`, every socket operation has a 10 s deadline.
set -eu

ROUNDS=${ROUNDS:-9}
CONNS=${CONNS:-500}
. "$(dirname "$0")/lib.sh"
bench_setup ipcacc s6-ipcserver-access ipcserver ipcserver-access ipcrules-cdb

# The rules.
i=1000
while [ $i -lt 1050 ]; do mkdir -p "$tmp/r/uid/$i"; : >"$tmp/r/uid/$i/allow"; i=$((i + 1)); done
i=1000
while [ $i -lt 1010 ]; do mkdir -p "$tmp/r/gid/$i"; : >"$tmp/r/gid/$i/deny"; i=$((i + 1)); done
mkdir -p "$tmp/r/uid/default/env"
: >"$tmp/r/uid/default/allow"
echo bench >"$tmp/r/uid/default/env/ACCESS_BENCH"
"$TARGET/ipcrules-cdb" "$tmp/rules.cdb" "$tmp/r"

start() { # name argv...: start a service on $tmp/$name, wait for its -1 line
  name=$1
  shift
  fifo=$tmp/$name.ready
  mkfifo "$fifo"
  timeout -k 5 3600 "$TARGET/ipcserver" -1 "$tmp/$name" "$@" >"$fifo" 2>"$tmp/$name.log" &
  pids="$pids $!"
  read -r _ <"$fifo"
  # The server is timeout's only child; its handlers' CPU time adds up in its stat.
  awk '{print $1}' "/proc/$!/task/$!/children" >"$tmp/$name.pid"
}
ctime() { # CPU time (user+system, clock ticks) of the reaped handlers of service $1
  awk '{print $16 + $17}' "/proc/$(cat "$tmp/$1.pid")/stat"
}
start base /bin/cat
start ours "$TARGET/ipcserver-access" -x "$tmp/rules.cdb" /bin/cat
start s6 "$S6" -x "$tmp/rules.cdb" /bin/cat

echo "ipcserver-access vs s6-ipcserver-access: $ROUNDS rounds x $CONNS sequential connections, 64-byte echo via /bin/cat behind ipcserver"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -sr)"
res=$tmp/results
hz=$(getconf CLK_TCK)
: >"$res"
r=1
while [ "$r" -le "$ROUNDS" ]; do
  # Rotate the order each round so that neither side always runs first.
  case $((r % 3)) in
    1) order="base ours s6" ;;
    2) order="ours s6 base" ;;
    *) order="s6 base ours" ;;
  esac
  for svc in $order; do
    c0=$(ctime "$svc")
    out=$("$IPCBENCH" load -c 1 -n "$CONNS" -s 64 -t 10 "$tmp/$svc")
    case $out in *" errors=0 "*) ;; *) echo "access.sh: $svc: bad echoes: $out" >&2; exit 111 ;; esac
    t=${out##*us_per_conn=}
    c=$(( ($(ctime "$svc") - c0) * 1000000 / hz / CONNS ))
    case $svc in base) b=$t bc=$c ;; ours) o=$t oc=$c ;; s6) s=$t sc=$c ;; esac
  done
  echo "round=$r base_us=$b ours_us=$o s6_us=$s base_cpu_us=$bc ours_cpu_us=$oc s6_cpu_us=$sc" | tee -a "$res"
  r=$((r + 1))
done

awk '
function median(a, n,   i, j, t) {
  for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
{
  for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
  n++; B[n] = v["base_us"]; O[n] = v["ours_us"] - v["base_us"]; S[n] = v["s6_us"] - v["base_us"]
  BC[n] = v["base_cpu_us"]; OC[n] = v["ours_cpu_us"] - v["base_cpu_us"]; SC[n] = v["s6_cpu_us"] - v["base_cpu_us"]
}
END {
  b = median(B, n); o = median(O, n); s = median(S, n)
  bc = median(BC, n); oc = median(OC, n); sc = median(SC, n)
  printf "\n| metric (median of %d rounds) | ours | s6 | ours/s6 | target |\n|---|---|---|---|---|\n", n
  printf "| wall time per connection, /bin/cat alone | %.0f us | %.0f us | | |\n", b, b
  printf "| wall time added by the access check | %.0f us | %.0f us | %.2f | <= 1.0 |\n", o, s, (s > 0 ? o / s : 0)
  printf "| handler CPU time per connection, /bin/cat alone | %.0f us | %.0f us | | |\n", bc, bc
  printf "| handler CPU time added by the access check | %.0f us | %.0f us | %.2f | <= 1.0 |\n", oc, sc, (sc > 0 ? oc / sc : 0)
}' "$res"
