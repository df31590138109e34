#!/bin/bash
# The long reliability runs of doc/reliability.md: soak, maxconn saturation, fd
# exhaustion, SIGKILL under a supervisor, HUP storm under load. Local Unix sockets
# only; every step is bounded by `timeout` and the script stops by itself (about
# 5 minutes on 2 cores). Run as root (for the s6-supervise step and prlimit).
#   bench/reliability.sh [CONNECTIONS]      default 100000
# Needs: s6 (s6-supervise, s6-svc), util-linux (prlimit), bc; the clients are
# `ipcbench soak` and `ipcbench hold` (crates/ipcbench, built here unless IPCBENCH is set).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
total=${1:-100000}
# The programs as installed (static-pie, `make all`; TARGET=dir for another build).
top=$root
. "$root/bench/lib.sh" || exit 1
bin=$TARGET
need_ipcbench || exit 1
work=$(mktemp -d /tmp/ipcrel.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; s6-svc -xd "$work/svc" 2>/dev/null; sleep 0.2; rm -rf "$work"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

fds() { ls "/proc/$1/fd" | wc -l; }
rss() { sed -n 's/^VmRSS:[[:space:]]*//p' "/proc/$1/status"; }
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }
zombies() { # zombie children of $1
    local n=0 c
    for c in $(cat "/proc/$1/task/$1/children" 2>/dev/null); do
        [ "$(awk '{print $3}' "/proc/$c/stat" 2>/dev/null)" = Z ] && n=$((n + 1))
    done
    echo $n
}
children() { wc -w < "/proc/$1/task/$1/children"; }
# start_server LOG ARGS... : ipcserver -1 in the background; sets $srv once ready.
# Each server writes its readiness line into a fifo of its own, and we block reading
# that fifo: a file shared between servers would still hold the previous server's line
# and announce a server that has not yet set up its signal handlers.
nserv=0
start_server() {
    local log=$1 ready line; shift
    nserv=$((nserv + 1))
    ready=$work/ready.$nserv
    mkfifo "$ready" || { bad "mkfifo $ready"; return 1; }
    "$bin/ipcserver" -1 "$@" > "$ready" 2> "$log" &
    srv=$!
    if IFS= read -r -t 30 line < "$ready" && [ -n "$line" ]; then return 0; fi
    bad "server never ready: $(cat "$log")"; return 1
}
wait_idle() { for _ in $(seq 200); do [ "$(children "$1")" = 0 ] && return 0; sleep 0.05; done; return 1; }

echo "== soak: $total connections, 50 concurrent clients, 10% held 20 ms"
start_server "$work/soak.log" -v -c 100 -C 100 "$work/soak" cat || exit 1
f0=$(fds $srv); r0=$(rss $srv); c0=$(cpu $srv); t0=$(date +%s.%N)
( while sleep 2; do echo "$(fds $srv) $(rss $srv | cut -d' ' -f1) $(zombies $srv)"; done ) > "$work/samples" &
sampler=$!
out=$(timeout 1200 "$IPCBENCH" soak -c 50 -n $((total / 50)) -p 10 -l 20 "$work/soak")
t1=$(date +%s.%N)
kill $sampler
wait_idle $srv || bad "handlers left running: $(children $srv)"
f1=$(fds $srv); r1=$(rss $srv); c1=$(cpu $srv); z=$(zombies $srv)
allow=$(grep -c ': allow ' "$work/soak.log"); ends=$(grep -c ': end pid ' "$work/soak.log")
warns=$(grep -c -v ': info: ' "$work/soak.log")
maxz=$(awk '$3 > m {m = $3} END {print m + 0}' "$work/samples")
rssmax=$(awk '$2 > m {m = $2} END {print m + 0}' "$work/samples")
echo "$out; $(echo "$t1 - $t0" | bc) s; server CPU $(( (c1 - c0) ))/100 s"
echo "server fds start $f0 end $f1; RSS start $r0 end $r1 (max sampled $rssmax kB)"
echo "log: allow $allow, end $ends, other lines $warns; zombies at end $z (max sampled $maxz)"
case $out in *" errors 0") ;; *) bad "client errors";; esac
[ "$f0" = "$f1" ] || bad "fd count changed"
[ "$allow" = "$total" ] && [ "$ends" = "$total" ] || bad "allow/end counts"
[ "$z" = 0 ] || bad "zombies"
kill $srv; wait $srv 2>/dev/null

echo "== maxconn saturation: 1000 held at -c 1000, then 200 more"
ulimit -n 8192
start_server "$work/sat.log" -c 1000 -C 1000 -b 2000 "$work/sat" cat || exit 1
out=$(timeout 300 "$IPCBENCH" hold -n 1000 -e 200 "$work/sat")
echo "$out"
echo "$out" | grep -q '^held 1000/1000, extra answered early: 0$' || bad "saturation: held"
echo "$out" | grep -q '^extra served after release 200/200$' || bad "saturation: release"
wait_idle $srv || bad "handlers left"
echo "server fds at end $(fds $srv), zombies $(zombies $srv), log lines $(wc -l < "$work/sat.log")"
kill $srv; wait $srv 2>/dev/null

echo "== out of fds: soft RLIMIT_NOFILE lowered to the lowest free fd, 20 clients, then raised"
start_server "$work/emfile.log" "$work/emfile" cat || exit 1
# The lowest free fd number: with the limit there, accept has no fd to return.
n=$(ls "/proc/$srv/fd" | sort -n | awk '$1 == n {n++} END {print n + 0}')
prlimit --pid $srv --nofile=$n: || bad "prlimit"
( timeout 60 "$IPCBENCH" soak -c 20 -n 1 "$work/emfile" > "$work/emfile.out" ) &
client=$!
sleep 1; ca=$(cpu $srv); sleep 5; cb=$(cpu $srv)
echo "CPU while starved: $(( cb - ca )) ticks in 5 s (100 ticks = 1 CPU second)"
[ $((cb - ca)) -le 20 ] || bad "server spins while out of fds"
prlimit --pid $srv --nofile=1024:
t0=$(date +%s.%N); wait $client; t1=$(date +%s.%N)
echo "after raising the limit: $(cat "$work/emfile.out") within $(echo "$t1 - $t0" | bc) s"
grep -q 'errors 0' "$work/emfile.out" || bad "emfile clients"
echo "log: $(sort "$work/emfile.log" | uniq -c | tr -s ' ')"
grep -q 'warning: unable to accept: Too many open files' "$work/emfile.log" || bad "no EMFILE warning"
kill $srv; wait $srv 2>/dev/null

echo "== SIGKILL under s6-supervise, 50 times"
mkdir -p "$work/svc" "$work/sock"
printf '#!/bin/sh\nexec %s %s cat\n' "$bin/ipcserver" "$work/sock/s" > "$work/svc/run"
chmod +x "$work/svc/run"
s6-supervise "$work/svc" > /dev/null 2>&1 &
answers() { "$IPCBENCH" soak -c 1 -n 1 -t 10 "$work/sock/s" 2>/dev/null | grep -q 'errors 0$'; }
ok=0
for i in $(seq 50); do
    for _ in $(seq 200); do answers && break; sleep 0.05; done
    answers && ok=$((ok + 1))
    pid=$(s6-svstat -p "$work/svc")
    kill -9 "$pid"
    for _ in $(seq 200); do [ "$(s6-svstat -p "$work/svc")" != "$pid" ] && break; sleep 0.05; done
done
for _ in $(seq 200); do answers && break; sleep 0.05; done
echo "served after each of 50 SIGKILLs: $ok/50; socket dir now: $(ls -A "$work/sock" | tr '\n' ' ')"
[ "$ok" = 50 ] && [ "$(ls -A "$work/sock")" = s ] || bad "restart under supervisor"
s6-svc -xd "$work/svc"; sleep 0.5

echo "== HUP storm during load: 20 clients x 500 connections, a HUP every ms"
start_server "$work/hup.log" -v -c 50 -C 50 "$work/hup" cat || exit 1
( while kill -HUP $srv 2>/dev/null; do sleep 0.001; done ) &
storm=$!
out=$(timeout 600 "$IPCBENCH" soak -c 20 -n 500 "$work/hup")
kill $storm; wait $storm 2>/dev/null
wait_idle $srv || bad "handlers left"
allow=$(grep -c ': allow ' "$work/hup.log"); ends=$(grep -c ': end pid ' "$work/hup.log")
hups=$(grep -c 'received SIGHUP' "$work/hup.log")
echo "$out (a HUP may end a handler before it echoes); SIGHUPs handled $hups"
echo "log: allow $allow, end $ends; children $(children $srv), zombies $(zombies $srv); still serving: $(answers2=$("$IPCBENCH" soak -c 1 -n 1 -t 10 "$work/hup"); echo "$answers2")"
[ "$allow" = "$ends" ] || bad "HUP storm: allow $allow != end $ends"
kill $srv; wait $srv 2>/dev/null

[ $fail = 0 ] && echo "ALL OK" || echo "SOME STEPS FAILED"
exit $fail
