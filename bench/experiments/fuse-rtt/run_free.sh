#!/bin/bash
# Extra rounds of the unpinned ("free") single-threaded variants only, quiet-gated.
D=$(cd "$(dirname "$0")" && pwd); B=${B:-/tmp/fuse-rtt}; ROUNDS=${ROUNDS:-10}; OUT=${OUT:-$B/results_free.txt}
trap 'echo N > /sys/module/fuse/parameters/enable_uring; grep -q " $B/mnt " /proc/mounts && umount -l $B/mnt' EXIT
for r in $(seq 1 $ROUNDS); do
  for m in classic poll uring uringdt; do
    export PRE=$($D/quiet_gate.sh ${GATE_WAIT:-60} 8); $D/run_one.sh $m free-$m-x$r >> $OUT
  done
done
