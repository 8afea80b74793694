#!/bin/bash
# Build the experiment's three programs into $B (default /tmp/fuse-rtt), outside the repository.
set -eu
D=$(cd "$(dirname "$0")" && pwd); B=${B:-/tmp/fuse-rtt}
mkdir -p "$B"
gcc -O2 -Wall -pthread -o "$B/expfs" "$D/expfs.c"
gcc -O2 -Wall -o "$B/statbench" "$D/statbench.c"
gcc -O2 -Wall -o "$B/sampler" "$D/sampler.c"
