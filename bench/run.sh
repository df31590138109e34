#!/bin/sh
# bench/run.sh — ipcserver vs s6-ipcserver, side by side in one run.
#
# Each round benchmarks ours (A) then s6's (B), A B A B …, with handler /bin/cat echoing
# 64 bytes: start-to-ready (-1, median of STARTS starts), idle VmRSS of the server
# process, sequential load (1 client x SEQ connections), concurrent load (CLIENTS x
# PER connections), and the server process's own CPU time per connection
# (/proc/PID/schedstat, that task only, never its children). The table gives the median
# over rounds of each metric and the ratio ours/s6 against the targets of
# doc/performance.md.
#
# Usage: bench/run.sh            (environment: ROUNDS=5 STARTS=10 SEQ=2000 CLIENTS=16
#                                  PER=300 NO_EXTRA=1 ROUND_TIMEOUT=120,
#                                  OURS=path to benchmark another ipcserver build,
#                                  STATIC=0 to build and benchmark a dynamic one,
#                                  S6=path to benchmark another s6-ipcserver, e.g.
#                                  target/s6-upstream/bin/s6-ipcserver for s6 2.15,
#                                  ALT=path to a second build of ours, run as a third
#                                  implementation in every round: A B C A B C …)
# Only local sockets in a private temp dir, removed on exit. Bounded: every round runs
# under `timeout`, and each connection has a read/write deadline.
#
# Hooks: every other bench/*.sh (bench/ipcclient.sh, bench/access.sh, bench/npt.sh, …)
# but bench/reliability.sh (a stress test, not a benchmark: run it on its own) is run
# afterwards, in name order, with IPCBENCH (the load client), TARGET (the release
# directory), BENCH_TMP (a fresh temp dir) and ROUNDS in its environment, each under
# `timeout EXTRA_TIMEOUT` (default 300 s). Set NO_EXTRA=1 to skip them.
set -eu

ROUNDS=${ROUNDS:-5}
STARTS=${STARTS:-10}
SEQ=${SEQ:-2000}
CLIENTS=${CLIENTS:-16}
PER=${PER:-300}
SIZE=64
ROUND_TIMEOUT=${ROUND_TIMEOUT:-120}
EXTRA_TIMEOUT=${EXTRA_TIMEOUT:-300}

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "$ROUNDS" -ge 3 ] || { echo "run.sh: ROUNDS must be at least 3" >&2; exit 100; }

# Our programs as they are installed: `make all`, static-pie for the host (bench/lib.sh;
# `STATIC=0` for a dynamically linked build, TARGET=dir for any other).
. bench/lib.sh
need_ipcbench || exit 111
OURS=${OURS:-$TARGET/ipcserver}
S6=${S6:-$(command -v s6-ipcserver || true)}
for f in "$IPCBENCH" "$OURS"; do
  [ -x "$f" ] || { echo "run.sh: $f not built" >&2; exit 111; }
done
[ -n "$S6" ] || { echo "run.sh: s6-ipcserver not installed (apt-get install s6)" >&2; exit 111; }
[ -x /bin/cat ] || { echo "run.sh: /bin/cat missing" >&2; exit 111; }

# Short path: sun_path holds 107 bytes.
tmp=$(mktemp -d /tmp/ipcbench.XXXXXX)
cleanup() {
  # ipcbench stops its servers itself; this catches any left by an interrupted round.
  for p in $(pgrep -f -- "$tmp/" 2>/dev/null || true); do
    [ "$p" != "$$" ] && kill -TERM "$p" 2>/dev/null || true
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

results=$tmp/results
: >"$results"
echo "ipcserver vs s6-ipcserver: $ROUNDS rounds, A=ours B=s6, seq 1x$SEQ, conc ${CLIENTS}x$PER, $SIZE-byte echo via /bin/cat"
echo "ours: $OURS; peer: $S6"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $(uname -sr)"
r=1
while [ "$r" -le "$ROUNDS" ]; do
  for impl in ours s6 ${ALT:+alt}; do
    case $impl in ours) server=$OURS ;; alt) server=$ALT ;; *) server=$S6 ;; esac
    d=$tmp/$impl$r
    mkdir "$d"
    line=$(timeout -k 5 "$ROUND_TIMEOUT" "$IPCBENCH" round -r "$STARTS" -n "$SEQ" \
      -c "$CLIENTS" -m "$PER" -s "$SIZE" -t 10 -d "$d" -- "$server" -1 %s /bin/cat) || {
      echo "run.sh: round $r ($impl) failed" >&2
      exit 111
    }
    echo "round=$r impl=$impl $line" | tee -a "$results"
    rm -rf "$d"
  done
  r=$((r + 1))
done

# Median per metric per implementation, then ours/s6 against the targets.
awk '
function median(a, n,   i, j, t) {
  for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
  return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function med(impl, key,   n, i, a) {
  n = cnt[impl, key]
  for (i = 1; i <= n; i++) a[i] = val[impl, key, i]
  return median(a, n)
}
# Paired: ours/s6 within each round (A and B ran back to back), then the median.
function pmed(key, impl,   n, i, a) {
  n = cnt["s6", key]
  for (i = 1; i <= n; i++) a[i] = (val["s6", key, i] > 0) ? val[impl, key, i] / val["s6", key, i] : 0
  return median(a, n)
}
{
  delete f
  for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
  impl = f["impl"]
  for (k in f) { if (k == "impl" || k == "comm" || k == "round") continue; n = ++cnt[impl, k]; val[impl, k, n] = f[k] }
  if (f["errors"] + 0 > 0) errs += f["errors"]
}
END {
  m[1] = "cpu_us_per_conn"; label[1] = "server CPU per connection (us)"; op[1] = "<="; tgt[1] = 0.6
  m[2] = "seq_cps";         label[2] = "sequential connections/s";    op[2] = ">="; tgt[2] = 1.15
  m[3] = "conc_cps";        label[3] = "concurrent connections/s";    op[3] = ">="; tgt[3] = 1.0
  m[4] = "rss_kb";          label[4] = "idle RSS (kB)";               op[4] = "<="; tgt[4] = 1.0
  m[5] = "ready_us";        label[5] = "start-to-ready (us)";         op[5] = "<="; tgt[5] = 0.6
  m[6] = "conc_p99_us";     label[6] = "concurrent p99 latency (us)"; op[6] = "<="; tgt[6] = 1.0
  m[7] = "seq_p99_us";      label[7] = "sequential p99 latency (us)"; op[7] = "<="; tgt[7] = 1.0
  printf "\n| metric (median of %d rounds) | ipcserver | s6-ipcserver | ratio of medians | paired ratio | target | met |\n", cnt["ours", "seq_cps"]
  printf "|---|---:|---:|---:|---:|---:|:---:|\n"
  for (i = 1; i <= 7; i++) {
    a = med("ours", m[i]); b = med("s6", m[i]); q = (b > 0) ? a / b : 0; pq = pmed(m[i], "ours")
    ok = (op[i] == "<=") ? (pq <= tgt[i]) : (pq >= tgt[i])
    printf "| %s | %.1f | %.1f | %.2f | %.2f | %s %.2f | %s |\n", label[i], a, b, q, pq, op[i], tgt[i], ok ? "yes" : "**no**"
  }
  printf "\n(paired ratio: median over rounds of ours/s6 within the round; \"met\" judges it)\n"
  if (cnt["alt", "seq_cps"] > 0) {
    printf "\n| metric | ALT build | paired ratio ALT/s6 | paired ratio ours/s6 |\n|---|---:|---:|---:|\n"
    for (i = 1; i <= 7; i++) printf "| %s | %.1f | %.2f | %.2f |\n", label[i], med("alt", m[i]), pmed(m[i], "alt"), pmed(m[i], "ours")
  }
  printf "\nextra: RSS after load (kB) %.0f vs %.0f; CPU/conn sequential %.1f vs %.1f us, concurrent %.1f vs %.1f us\n", \
    med("ours", "rss_after_kb"), med("s6", "rss_after_kb"), med("ours", "seq_cpu_us"), med("s6", "seq_cpu_us"), \
    med("ours", "conc_cpu_us"), med("s6", "conc_cpu_us")
  if (errs > 0) printf "WARNING: %d failed connections\n", errs
}' "$results"

# Hooks: other helpers' benchmark scripts, if present.
[ -n "${NO_EXTRA:-}" ] && exit 0
for f in "$top"/bench/*.sh; do
  [ -f "$f" ] || continue
  case $(basename "$f") in run.sh | lib.sh | reliability.sh) continue ;; esac
  echo
  echo "== $(basename "$f") =="
  extra=$tmp/extra.$(basename "$f" .sh)
  mkdir -p "$extra"
  IPCBENCH=$IPCBENCH TARGET=$TARGET BENCH_TMP=$extra ROUNDS=$ROUNDS \
    timeout -k 5 "$EXTRA_TIMEOUT" sh "$f" || echo "run.sh: $(basename "$f") failed (status $?)" >&2
done
