#!/bin/bash
# Runs all variants alternating. run_one.sh sets enable_uring=Y only around each uring daemon's INIT; N restored on exit anyway.
D=$(cd "$(dirname "$0")" && pwd); B=${B:-/tmp/fuse-rtt}; ROUNDS=${ROUNDS:-7}; OUT=${OUT:-$B/results.txt}
trap 'echo N > /sys/module/fuse/parameters/enable_uring; grep -q " $B/mnt " /proc/mounts && umount -l $B/mnt' EXIT
for r in $(seq 1 $ROUNDS); do
  for m in classic poll uring uringdt uringpercpu; do
    [ -n "$GATE" ] && export PRE=$($D/quiet_gate.sh ${GATE_WAIT:-15} 8); $D/run_one.sh $m free-$m-$r >> $OUT
  done
  for m in classic poll uring uringdt; do
    [ -n "$GATE" ] && export PRE=$($D/quiet_gate.sh ${GATE_WAIT:-15} 8); $D/run_one.sh $m cross-$m-$r 0 1 >> $OUT
  done
  for m in classic poll uring uringdt; do
    [ -n "$GATE" ] && export PRE=$($D/quiet_gate.sh ${GATE_WAIT:-15} 8); $D/run_one.sh $m same-$m-$r 1 1 >> $OUT
  done
done
