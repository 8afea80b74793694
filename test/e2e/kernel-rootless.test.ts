// The kernel transport mounts inside a user namespace, without fusermount: an unprivileged user
// (with a usable /dev/fuse, see test/helpers/unprivileged.ts) becomes root of a new user and mount
// namespace and runs worldfs there; the mount(2) is its own. Files it creates land in the upper
// layer owned by the user on the host.
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnprivilegedUser } from '../helpers/unprivileged.js';

describe('the kernel transport in a user namespace', () => {
  let user: UnprivilegedUser;
  beforeAll(async () => { user = await UnprivilegedUser.make(); });
  afterAll(async () => { await user?.cleanup(); });

  it('mounts, serves and unmounts as root of the namespace, with no fusermount', () => {
    const b = join(user.home, 'kt');
    const script = [
      'set -e',
      `mkdir -p ${b}/l0 ${b}/upper ${b}/work ${b}/mnt`,
      `echo lower > ${b}/l0/f`,
      // A fusermount that only reports being called: none may be.
      `mkdir -p ${b}/bin && for f in fusermount fusermount3; do printf '#!/bin/sh\necho CALLED $0 >&2\nexit 1\n' > ${b}/bin/$f; chmod +x ${b}/bin/$f; done`,
      `PATH=${b}/bin:$PATH ${user.repo}/bin/worldfs -o lowerdir=${b}/l0,upperdir=${b}/upper,workdir=${b}/work,transport=kernel ${b}/mnt`,
      `grep " ${b}/mnt " /proc/self/mounts`,
      `cat ${b}/mnt/f`,
      `echo new > ${b}/mnt/g`,
      `stat -c 'owner %u:%g' ${b}/mnt/g`,
      `umount ${b}/mnt`,
      // The daemon exits by itself once the device reports ENODEV.
      // (the pattern is built at run time, so that it never matches this script's own command line)
      `d="dist/fs/""main.js"; for i in $(seq 50); do pgrep -u 0 -f "$d" >/dev/null || break; sleep 0.1; done`,
      `pgrep -u 0 -f "$d" >/dev/null && echo daemon-left || echo daemon-gone`,
    ].join('\n');
    const r = user.run(['unshare', '--user', '--map-root-user', '--mount', '--propagation', 'private', '--', 'sh', '-c', script]);
    expect(r.stderr).not.toMatch(/CALLED/);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fuse\.worldfs/);
    expect(r.stdout).toContain('lower\n');
    expect(r.stdout).toContain('owner 0:0'); // root of the namespace...
    expect(r.stdout).toContain('daemon-gone');
    const g = lstatSync(join(b, 'upper', 'g')); // ...which is the user on the host
    expect([g.uid, g.gid]).toEqual([user.uid, user.gid]);
    expect(readFileSync(join(b, 'upper', 'g'), 'utf8')).toBe('new\n');
  });
});
