#!/bin/bash
# secheck addition to run-rulesfs-swap.sh: each ipcrules-fs variant's exit codes, and
# whether anything was written into the attacker's directory (evil/ emptied first).
. "$(dirname "$0")/common.sh"; cd "$W/rfs"
for mode in 0777 1777; do for kind in dir symlink; do
  rm -rf par evil; mkdir -p par evil; chmod $mode par; chown 65534 evil; chmod 777 evil
  c0=0; c111=0; other=0; attacker=0; exact=0
  for i in $(seq 30); do rm -rf par/rules par/away.* par/.rules*
    if [ $kind = dir ]; then $U ./rswap $PWD/par .rules.ipcrules-fs. 2>/dev/null & SW=$!
    else $U ./rswap $PWD/par .rules.ipcrules-fs. $PWD/evil 2>/dev/null & SW=$!; fi; sleep 0.05
    $BIN/ipcrules-fs par/rules rules.cdb 2>/dev/null; rc=$?; kill $SW; wait $SW 2>/dev/null
    case $rc in 0) c0=$((c0+1));; 111) c111=$((c111+1));; *) other=$((other+1));; esac
    if [ -L par/rules ] || { [ -e par/rules ] && [ "$(stat -c %u par/rules)" != 0 ]; }; then attacker=$((attacker+1)); fi
    [ $rc = 0 ] && diff -r par/rules src >/dev/null && exact=$((exact+1)); done
  echo "parent $mode, swap with $kind: exit 0 $c0 (tree = source: $exact), exit 111 $c111, other $other; DIR the attacker's $attacker/30; files in evil/: $(find evil -mindepth 1 | wc -l)"
done; done
