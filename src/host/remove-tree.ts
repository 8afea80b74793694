// Recursive removal that refuses to walk into a mount: a world's directory is removed only when
// nothing is mounted inside it (a FUSE view there would otherwise be emptied through the view).
import { rmSync } from 'node:fs';
import { readMounts } from './mountinfo.js';

export class MountedInsideError extends Error {
  constructor(readonly dir: string, readonly mountpoint: string) {
    super(`refusing to remove ${dir}: ${mountpoint} is mounted inside it; unmount it first`);
  }
}

export function removeTree(dir: string): void {
  const prefix = dir.endsWith('/') ? dir : dir + '/';
  const inside = readMounts().find((m) => m.mountpoint === dir || m.mountpoint.startsWith(prefix));
  if (inside) throw new MountedInsideError(dir, inside.mountpoint);
  rmSync(dir, { recursive: true, force: true });
}
