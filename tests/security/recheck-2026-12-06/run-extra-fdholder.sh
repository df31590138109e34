#!/bin/bash
# secheck additions to run-fdholder.sh: F1's re-stalling attacker with and without -t
# against both daemons (fds sampled, root's list/store/retrieve/delete counted), and F4's
# fill-then-root at the limits of issue 21 item 2.
NC=${NC:-5}; . "$(dirname "$0")/common.sh"; mkdir -p "$W/fdh"; cd "$W/fdh"; cp "$S"/*.py .
rm -rf rules; mkdir -p rules/uid/65534/env rules/uid/0/env rules/uid/2222
touch rules/uid/65534/allow rules/uid/0/allow rules/uid/2222/allow
echo '^pub:' > rules/uid/65534/env/S6_FDHOLDER_STORE_REGEX; echo '^pub:' > rules/uid/65534/env/S6_FDHOLDER_RETRIEVE_REGEX
echo '^' > rules/uid/0/env/S6_FDHOLDER_STORE_REGEX; echo '^' > rules/uid/0/env/S6_FDHOLDER_RETRIEVE_REGEX
for v in LIST GETDUMP SETDUMP; do echo 1 > rules/uid/0/env/S6_FDHOLDER_$v; done
daemon() { # $1 s|s6; $2 options; $3 ulimit; $4 extra rule option (-i rules | -x cdb)
  rm -f $1 $1.lock; if [ $1 = s ]; then p=$BIN/ipcfdholder-daemon; else p=s6-fdholder-daemon; fi
  (ulimit -n $3; exec $p -1 $2 ${4:--i rules} $PWD/$1 > /dev/null 2>$1.log) & D=$!; sleep 0.5; }
echo "### F1 reconnecting attacker (fdpartial_loop.py, $NC connections, 30 s, uid 2222), ulimit -n 1024"
for d in s s6; do for t in "" "-t 2000"; do daemon $d "$t" 1024
  as 2222 $P fdpartial_loop.py $PWD/$d $NC 30 > loop.out & AP=$!; sleep 1; max=0; ok=0; okr=0
  for i in $(seq 20); do n=$(ls /proc/$D/fd | wc -l); [ $n -gt $max ] && max=$n
    timeout 3 $BIN/ipcfdholder-list -t 1000 $PWD/$d >/dev/null 2>&1 && ok=$((ok+1))
    timeout 3 $BIN/ipcfdholder-store -t 1000 -d 0 $PWD/$d unix:k$i </dev/null 2>/dev/null && \
    timeout 3 $BIN/ipcfdholder-retrieve -t 1000 $PWD/$d unix:k$i true 2>/dev/null && \
    timeout 3 $BIN/ipcfdholder-delete -t 1000 $PWD/$d unix:k$i 2>/dev/null && okr=$((okr+1)); done
  wait $AP; echo "[$d '$t'] root list ok $ok/20, store+retrieve+delete ok $okr/20, daemon fds max $max, after $(ls /proc/$D/fd | wc -l); $(cat loop.out)"
  kill $D; wait $D 2>/dev/null; done; done
echo "### F4 / D1-D2: fill as 65534 (fill.py 200), then root delete, list, store at each limit"
$BIN/ipcrules-cdb rules.cdb rules
for lim in 7 20 24 64 1024; do for r in "-i rules" "-x rules.cdb"; do for d in s s6; do daemon $d "" $lim "$r"
  a=$($U $P fill.py $PWD/$d 200 2>&1 | tr -d '\n')
  timeout 5 $BIN/ipcfdholder-delete -t 2000 $PWD/$d pub:fill0 2>/dev/null; rd=$?
  timeout 5 $BIN/ipcfdholder-list -t 2000 $PWD/$d >/dev/null 2>&1; rl=$?
  timeout 5 $BIN/ipcfdholder-store -t 2000 -d 0 $PWD/$d root:x </dev/null 2>/dev/null; rs=$?
  echo "[$d limit $lim $r] $a; root delete rc=$rd list rc=$rl store rc=$rs"
  kill $D; wait $D 2>/dev/null; done; done; done
