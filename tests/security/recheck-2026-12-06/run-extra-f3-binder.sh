#!/bin/bash
# F3 against a listener made by another process that stays alive (binder.py: bind,
# listen, fork; the child execs the daemon with the listener on stdin).
. "$(dirname "$0")/common.sh"; cd "$W/fdh"
for t in "" "-t 2000"; do for d in ipc s6; do rm -f sb; if [ $d = ipc ]; then p=$BIN/ipcfdholderd; else p=/usr/bin/s6-fdholderd; fi
  $P "$S/binder.py" $PWD/sb $p $t -i rules > binder.out 2>bd.log & B=$!; sleep 0.5
  r=$($U $P selfstore.py $PWD/sb 16); sleep 3
  timeout 6 $BIN/ipcfdholder-list -t 3000 $PWD/sb > /dev/null 2>&1; echo "[$d separate binder '$t'] $r; root list rc=$?"
  kill $(cat binder.out); wait $B; done; done
