// Recursive removal that refuses to walk into a mount: a world's directory is removed only when
// nothing is mounted inside it (a FUSE view there would otherwise be emptied through the view).
import { rmSync } from 'node:fs';
import { hostCode } from './errors.js';
import * as hostFs from './host-fs.js';
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
  removeAll(dir);
}

/**
 * rm -rf of `path`, at any depth: node's recursive rmSync names every entry by its full path and
 * fails past PATH_MAX (a world's layer holding a deep tree), so there the rest is removed entry by
 * entry through host-fs.ts, which reaches long paths through directory descriptors.
 */
export function removeAll(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch (e) {
    if (hostCode(e) !== 'ENAMETOOLONG') throw e;
    removeWalked(path);
  }
}

function removeWalked(path: string): void {
  const st = hostFs.lstatSync(path, { throwIfNoEntry: false });
  if (!st) return;
  if (!st.isDirectory()) return hostFs.unlinkSync(path);
  for (const name of hostFs.readdirSync(path)) removeWalked(path + '/' + name);
  hostFs.rmSync(path, { recursive: true, force: true }); // empty by now: one rmdir
}
