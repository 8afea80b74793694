#!/bin/sh
# A child world's stat walk before and after notify=inotify (issue 6): the stack worldctl mounts
# for a child C of P (C's layer over P's over a base of DIRS x FILES files), served by bin/worldfs
# on the kernel transport with the options worlds used before (timeout=0) and now
# (timeout=0,notify=inotify: every lower layer small enough to watch, caches live notify_timeout).
# Prints ms for a cold walk (first after mount) and the best of 3 warm walks, per variant. Root.
#   sh bench/child-walk.sh [DIRS FILES]
set -eu
DIRS=${1:-20}
FILES=${2:-500}
REPO=$(cd "$(dirname "$0")/.." && pwd)
T=$(mktemp -d /tmp/worldos-child-walk-XXXXXX)
trap 'umount -l "$T/mnt" 2>/dev/null || true; rm -rf "$T"' EXIT
mkdir -p "$T/base" "$T/p" "$T/c" "$T/work" "$T/mnt"
node -e '
const fs = require("fs"); const [b, p, d, f] = process.argv.slice(1);
for (let i = 0; i < +d; i++) { fs.mkdirSync(`${b}/d${i}`); for (let j = 0; j < +f; j++) fs.writeFileSync(`${b}/d${i}/f${j}`, "x"); }
fs.mkdirSync(`${p}/d0`); fs.writeFileSync(`${p}/d0/f0`, "parent");' "$T/base" "$T/p" "$DIRS" "$FILES"
WALK='const fs = require("fs"); const root = process.argv[1]; const t = process.hrtime.bigint(); let n = 0;
for (const d of fs.readdirSync(root)) for (const f of fs.readdirSync(root + "/" + d)) { fs.statSync(root + "/" + d + "/" + f); n++; }
console.log(Number(process.hrtime.bigint() - t) / 1e6);'
for variant in "timeout=0" "timeout=0,notify=inotify"; do
  "$REPO/bin/worldfs" -o "lowerdir=$T/p:$T/base,upperdir=$T/c,workdir=$T/work,transport=kernel,$variant" "$T/mnt"
  cold=$(node -e "$WALK" "$T/mnt")
  warm=$(for i in 1 2 3; do node -e "$WALK" "$T/mnt"; done | sort -n | head -1)
  printf '%-28s %6d stats  cold %8.1f ms  warm %8.1f ms\n' "$variant" $((DIRS * FILES)) "$cold" "$warm"
  umount "$T/mnt"
  sleep 0.5
done
