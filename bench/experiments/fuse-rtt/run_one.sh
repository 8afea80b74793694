#!/bin/bash
# usage: run_one.sh MODE TAG [daemon_cpu client_cpu]   (MODE: classic|poll|uring|uringdt)
# Prints one result line. For uring modes sets enable_uring=Y only until the daemon has answered INIT, then back to N.
set -u
D=$(cd "$(dirname "$0")" && pwd); B=${B:-/tmp/fuse-rtt}; MNT=$B/mnt; MODE=$1; TAG=$2; N=${N:-20000}
DPIN=""; CPIN=""
if [ $# -ge 4 ]; then [ "$3" != "-" ] && DPIN="taskset -c $3"; CPIN="taskset -c $4"; fi
mkdir -p $MNT
grep -q " $MNT " /proc/mounts && umount -l $MNT
EU=/sys/module/fuse/parameters/enable_uring
case $MODE in uring*) echo Y > $EU;; esac
coproc DAEMON { exec $DPIN $B/expfs $MODE $MNT 2>$B/d.$TAG.err; }
DPID=$DAEMON_PID
read -t 5 -u ${DAEMON[0]} line || { echo N > $EU; echo "daemon not ready"; cat $B/d.$TAG.err; kill $DPID; exit 1; }
# io_uring is latched per connection at INIT; the module switch can go back to N right away
echo N > $EU
S0=$(head -1 /proc/stat); T0=$(date +%s.%N)
$CPIN $B/statbench $MNT $N $TAG > $B/c.$TAG.out &
CPID=$!
$B/sampler $DPID $CPID 20 > $B/s.$TAG.out &
SPID=$!
wait $CPID
wait $SPID
S1=$(head -1 /proc/stat); T1=$(date +%s.%N)
BUSY=$(python3 -c "import sys;a=list(map(int,sys.argv[1].split()[1:]));b=list(map(int,sys.argv[2].split()[1:]));d=[y-x for x,y in zip(a,b)];t=sum(d);print('%.0f busy_cpu_s=%.2f'%(100*(t-d[3]-d[4])/t if t else 0,(t-d[3]-d[4])/100))" "$S0" "$S1")
umount $MNT
wait $DPID 2>/dev/null
echo "$MODE $TAG | $(cat $B/c.$TAG.out) | daemon: $(grep lookups $B/d.$TAG.err) | sampler: $(cat $B/s.$TAG.out) | machine_busy%(of 2 cpus)=$BUSY interval_s=$(echo "$T1 - $T0" | bc -l | cut -c1-6) prerun_busy%=${PRE:-na}"
