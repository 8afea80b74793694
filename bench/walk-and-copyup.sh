#!/usr/bin/env bash
# Quick head-to-head for the two numbers issue 2 asks for, in one run on one machine:
#   1. `find MNT -exec stat` over 10,000 lower files (cold: fresh mount; warm: second walk)
#   2. copy-up of a 256 MiB lower file (first write to it: append one byte)
# on worldfs (aufs whiteouts) and fuse-overlayfs over identical layers. Needs root and the
# fuse-overlayfs package (installed if missing). The full suite is `npm run bench` (issue 5).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v fuse-overlayfs >/dev/null || apt-get install -y -qq fuse-overlayfs >/dev/null
W=$(mktemp -d /tmp/worldos-bench.XXXXXX)
cleanup() { for m in "$W"/*/mnt; do umount -l "$m" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT
mkdir -p "$W/lower"
for d in $(seq 0 99); do mkdir -p "$W/lower/d$d"; for f in $(seq 0 99); do echo "$d $f" > "$W/lower/d$d/f$f"; done; done
dd if=/dev/urandom of="$W/lower/big" bs=1M count=256 status=none
now() { date +%s.%N; }
mountfs() { # name mnt upper work
  case $1 in
    worldfs) bin/worldfs -o "lowerdir=$W/lower,upperdir=$3,workdir=$4" "$2" ;;
    fuse-overlayfs) fuse-overlayfs -o "lowerdir=$W/lower,upperdir=$3,workdir=$4" "$2" ;;
  esac
}
printf '%-16s %12s %12s %12s\n' fs "walk cold s" "walk warm s" "copyup256 s"
for fs in fuse-overlayfs worldfs; do
  for run in 1 2 3; do
    R="$W/$fs-$run"; mkdir -p "$R/upper" "$R/work" "$R/mnt"
    sync; echo 3 > /proc/sys/vm/drop_caches
    mountfs $fs "$R/mnt" "$R/upper" "$R/work"
    t0=$(now); find "$R/mnt" -exec stat -c %s {} + >/dev/null; t1=$(now)
    find "$R/mnt" -exec stat -c %s {} + >/dev/null; t2=$(now)
    echo x >> "$R/mnt/big"; t3=$(now)
    umount "$R/mnt"; sleep 0.3
    printf '%-16s %12.3f %12.3f %12.3f\n' "$fs" "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)" "$(echo "$t3 - $t2" | bc)"
  done
done
