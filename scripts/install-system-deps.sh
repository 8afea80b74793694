#!/usr/bin/env bash
# Debian packages the tests and the demo use:
#   attr (getfattr/setfattr for tests), git, gcc/make and tar for real workloads in the view,
#   util-linux (mount, unshare, nsenter, setpriv), fuse3 (the setuid fusermount3 an unprivileged
#   user mounts its views with: rootless worlds), passwd (useradd: the rootless test's user),
#   skopeo (the OCI registry client of worldctl push/pull) and docker-registry (the CNCF
#   distribution registry the OCI test starts on 127.0.0.1; no service is started here),
#   python3 (signal handlers in tests: posix-attrs, worlds-terminal), groff (renders the generated
#   manual pages in worldctl-surface), patch (applies `worldctl diff` output there) and acl
#   (setfacl/getfacl: default ACLs in posix-acl-modes). worldctl diff
#   itself runs diffutils' diff, which Debian always installs (Essential).
# Idempotent; quiet when everything is present.
set -euo pipefail
need=()
for pair in getfattr:attr git:git gcc:gcc make:make tar:tar unshare:util-linux setpriv:util-linux fusermount3:fuse3 useradd:passwd skopeo:skopeo docker-registry:docker-registry python3:python3-minimal groff:groff-base patch:patch setfacl:acl; do
  cmd=${pair%%:*}; pkg=${pair#*:}
  command -v "$cmd" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "missing packages: ${need[*]} (run as root to install them)" >&2; exit 1; fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
