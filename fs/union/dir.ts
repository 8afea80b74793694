// Directory operations: readdir (the merged listing), mkdir, rmdir.
import { mkdirSync } from '../../src/host/host-fs.js';
import { fsError } from '../../src/core/errors.js';
import { mergeListings } from '../../src/core/listing.js';
import { ROOT, type ViewPath } from '../../src/core/paths.js';
import type { ViewNode } from '../../src/core/resolve.js';
import { host } from '../../src/host/errors.js';
import type { Union } from '../../src/host/union.js';
import { own, type Owner } from './owner.js';

/** The names a directory shows, merged across its layers (without '.' and '..'). */
export function listNode(u: Union, node: ViewNode): string[] {
  if (node.entry.kind !== 'dir') throw fsError('ENOTDIR', node.path);
  if (node.branches.length === 1) {
    const b = node.branches[0]!;
    return mergeListings([u.layers.list(b.layer, b.rel)], u.format);
  }
  return mergeListings(node.branches.map((b) => u.layers.list(b.layer, b.rel)), u.format);
}

export function readdir(u: Union, path: ViewPath): string[] {
  return listNode(u, u.existing(path));
}

/** mkdir(2); `umask` as for Union.newMode. */
export function mkdir(u: Union, path: ViewPath, mode: number, owner?: Owner, umask?: number): void {
  const r = u.resolve(path);
  if (r.kind === 'found') throw fsError('EEXIST', path);
  const made = u.newMode(r.parent, mode, umask);
  u.placeNew(path, r, true, (p) => {
    host(() => mkdirSync(p, { mode: made & 0o7777 }));
    own(u, p, owner);
  });
}

export function rmdir(u: Union, path: ViewPath): void {
  if (path === ROOT) throw fsError('EBUSY', 'the root of the view');
  const node = u.existing(path);
  if (node.entry.kind !== 'dir') throw fsError('ENOTDIR', path);
  if (listNode(u, node).length > 0) throw fsError('ENOTEMPTY', path);
  u.removeNode(u.parentDir(path), node);
}
