#!/bin/bash
# secheck additions to run-spawn-stress.sh (run after it, same $W/spawn): the exec-failure
# flood with its "before" sampled from the right server (the original samples the killed
# first server) and the message of today's spawn ("unable to spawn"), zombies counted; and
# the review's -c 2 -C 1 case (two uids, 6000 connections each, a SIGHUP mid-way).
. "$(dirname "$0")/common.sh"; cd "$W/spawn"
st() { echo "fds=$(ls /proc/$SRV/fd | wc -l) rss=$(awk '/VmRSS/{print $2}' /proc/$SRV/status)kB"; }
zomb() { n=0; for c in $(cat /proc/$SRV/task/$SRV/children); do [ "$(awk '{print $3}' /proc/$c/stat 2>/dev/null)" = Z ] && n=$((n+1)); done; echo $n; }
( for f in /proc/self/fd/*; do n=${f##*/}; [ $n -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null
  rm -f s4; exec $BIN/ipcserver -a 0777 -c 1000 -C 1000 $PWD/s4 /nonexistent/prog 2>s4.log ) & SRV=$!; sleep 0.5; r0=$(st)
./cli $PWD/s4 $PWD/b0 x1 10000 30 >/dev/null 2>&1 & X1=$!; ./cli $PWD/s4 $PWD/b0 x2 10000 30 >/dev/null 2>&1; wait $X1; sleep 1
echo "exec-failure flood: $r0 -> $(st), 'unable to spawn' lines $(grep -c 'unable to spawn /nonexistent/prog: No such file or directory' s4.log), other lines $(grep -vc 'unable to spawn' s4.log), zombies $(zomb)"; kill $SRV; wait $SRV
( for f in /proc/self/fd/*; do n=${f##*/}; [ $n -gt 2 ] && eval "exec $n>&-"; done 2>/dev/null
  rm -f s5; exec $BIN/ipcserver -a 0777 -c 2 -C 1 $PWD/s5 $PWD/envh 2>s5.log ) & SRV=$!; sleep 0.5; r0=$(st)
./cli $PWD/s5 $PWD/b0 c1 6000 0 > out.c1 2>err.c1 & X1=$!; $U ./cli $PWD/s5 $PWD/bn c2 6000 0 > out.c2 2>err.c2 & X2=$!
sleep 2; kill -HUP $SRV; wait $X1 $X2; sleep 0.5; cat out.c1 out.c2; head -3 err.c1 err.c2
echo "-c 2 -C 1: $r0 -> $(st), deny lines $(grep -c deny s5.log), other lines $(grep -vc deny s5.log), zombies $(zomb)"
./cli $PWD/s5 $PWD/b0 c3 200 0; kill $SRV; wait $SRV
