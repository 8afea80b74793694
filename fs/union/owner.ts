// Who a new file or directory belongs to. The kernel transport knows the caller (fuse_in_header's
// uid/gid) and hands it down; fuse-native does not, and its files stay the daemon's.
import { fchmodSync, fchownSync, fstatSync, type Stats } from 'node:fs';
import { chmodSync, lchownSync, lstatSync } from '../../src/host/host-fs.js';
import { dirname } from 'node:path';
import { host } from '../../src/host/errors.js';
import type { Union } from '../../src/host/union.js';

const DAEMON_UID = process.geteuid?.() ?? 0;
const DAEMON_GID = process.getegid?.() ?? 0;

/** The caller of a creating operation. */
export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

/**
 * Give the new object at host path `p` to `owner`, as the kernel would have: the group of a
 * setgid parent directory wins over the caller's. Only when the daemon may chown (root, or root of
 * its user namespace). chown clears setuid/setgid on a non-directory, so `mode`'s are put back.
 */
export function own(u: Union, p: string, owner: Owner | undefined, mode?: number): void {
  ownAs(u, dirname(p), owner, mode, {
    stat: () => lstatSync(p),
    chown: (uid, gid) => host(() => lchownSync(p, uid, gid)),
    chmod: (m) => host(() => chmodSync(p, m)),
  });
}

/**
 * `own` for a new file with no name yet (O_TMPFILE), open as `fd`: `parent` is the host directory
 * whose setgid bit and group it takes, the highest copy of the view directory it was made in.
 */
export function ownFd(u: Union, fd: number, parent: string, owner: Owner | undefined, mode?: number): void {
  ownAs(u, parent, owner, mode, {
    stat: () => fstatSync(fd),
    chown: (uid, gid) => host(() => fchownSync(fd, uid, gid)),
    chmod: (m) => host(() => fchmodSync(fd, m)),
  });
}

function ownAs(u: Union, parent: string, owner: Owner | undefined, mode: number | undefined, obj: {
  stat(): Stats; chown(uid: number, gid: number): void; chmod(mode: number): void;
}): void {
  if (!owner || !u.options.canChown) return;
  // The daemon's own ids: the host kernel already gave the object what the caller would get.
  if (owner.uid === DAEMON_UID && owner.gid === DAEMON_GID) return;
  const dir = lstatSync(parent);
  const gid = dir.mode & 0o2000 ? dir.gid : owner.gid;
  const st = obj.stat();
  if (st.uid === owner.uid && st.gid === gid) return;
  obj.chown(owner.uid, gid);
  if (mode !== undefined && mode & 0o6000 && !st.isDirectory() && !st.isSymbolicLink()) obj.chmod(mode & 0o7777);
}
