#!/bin/sh
# bench/fdholder-syscalls.sh — system calls per store+retrieve pair, ipcfdholderd vs
# s6-fdholderd: counts, not times, so it means something on a busy machine too.
#
# Each daemon (started by its launcher, same rules as bench/fdholder.sh) is traced with
# `strace -c -f -p` while `ipcbench fdholder` does N pairs against it (store the write
# end of a pipe, retrieve it with delete; one connection per operation). Prints the
# strace table of each and the calls per pair.
#
# Usage: bench/fdholder-syscalls.sh   (environment: N=200, TARGET=dir of the built
#                                      binaries, default target/release; IPCBENCH)
# Needs strace and s6 (s6-fdholder-daemon).
set -eu
N=${N:-200}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
. bench/lib.sh
TARGET=${TARGET:-$top/target/release}
command -v strace >/dev/null || { echo "fdholder-syscalls.sh: strace not installed" >&2; exit 111; }
S6=$(command -v s6-fdholder-daemon || true)
[ -n "$S6" ] || { echo "fdholder-syscalls.sh: s6-fdholder-daemon not installed" >&2; exit 111; }
need_ipcbench || exit 111
tmp=$(mktemp -d "${BENCH_TMP:-/tmp}/ipcfdhsc.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
me=$(id -u)
mkdir -p "$tmp/rules/uid/$me/env"
: >"$tmp/rules/uid/$me/allow"
echo '^bench:' >"$tmp/rules/uid/$me/env/S6_FDHOLDER_STORE_REGEX"
echo '^bench:' >"$tmp/rules/uid/$me/env/S6_FDHOLDER_RETRIEVE_REGEX"
for name in ours s6; do
  if [ "$name" = ours ]; then launcher=$TARGET/ipcfdholder-daemon; else launcher=$S6; fi
  mkfifo "$tmp/$name.ready"
  "$launcher" -1 -n 10000 -i "$tmp/rules" "$tmp/$name.sock" >"$tmp/$name.ready" 2>"$tmp/$name.log" &
  pid=$!
  read -r _ <"$tmp/$name.ready"
  strace -c -f -p "$pid" -o "$tmp/$name.strace" 2>/dev/null &
  spid=$!
  sleep 1
  timeout 600 "$IPCBENCH" fdholder -n "$N" -t 10 "$tmp/$name.sock" "$pid" >/dev/null
  sleep 0.5
  kill -INT "$spid"; wait "$spid" 2>/dev/null || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  echo "== $name ($launcher), $N store+retrieve pairs"
  cat "$tmp/$name.strace"
  awk -v n="$N" '$NF == "total" { printf "calls per pair: %.1f\n", $4 / n }' "$tmp/$name.strace"
done
