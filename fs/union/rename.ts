// rename(2) across layers. Files are copied up and renamed in the top layer. Directories never
// fail with EXDEV and never lose lower entries: a directory that draws on lower layers is copied
// up alone (not its contents) and carries a redirect to where its lower contents still live, as
// overlayfs does with redirect_dir=on. The old name gets a whiteout when a lower layer still has it.
import { renameSync } from 'node:fs';
import { originOf } from '../../src/core/origin.js';
import { fsError } from '../../src/core/errors.js';
import { baseName, isWithin, relOf, ROOT, type ViewPath } from '../../src/core/paths.js';
import { lowerHas, type ViewNode } from '../../src/core/resolve.js';
import { host } from '../../src/host/errors.js';
import type { Union } from '../../src/host/union.js';
import { listNode } from './dir.js';

export function rename(u: Union, from: ViewPath, to: ViewPath): void {
  if (from === ROOT || to === ROOT) throw fsError('EBUSY', 'the root of the view');
  const src = u.existing(from);
  const dst = u.resolve(to); // ENOENT / ENOTDIR for a missing or non-directory parent of `to`
  if (from === to) return;
  const isDir = src.entry.kind === 'dir';
  if (isDir && isWithin(to, from)) throw fsError('EINVAL', `cannot move ${from} into itself`);
  if (isWithin(from, to) && dst.kind === 'found') throw fsError('ENOTEMPTY', `${to} contains ${from}`);
  u.checkNewName(baseName(to));
  if (dst.kind === 'found') {
    const d = dst.node;
    if (sameObject(u, src, d)) return; // two names of one inode: POSIX says do nothing
    if (isDir && d.entry.kind !== 'dir') throw fsError('ENOTDIR', to);
    if (!isDir && d.entry.kind === 'dir') throw fsError('EISDIR', to);
    if (isDir && listNode(u, d).length > 0) throw fsError('ENOTEMPTY', to);
  }
  u.noteChange(from, src);
  u.noteChange(to, dst.kind === 'found' ? dst.node : undefined);
  if (isDir) renameDir(u, src, to);
  else renameNonDir(u, src, to);
}

function renameNonDir(u: Union, src: ViewNode, to: ViewPath): void {
  const from = src.path;
  const upperSrc = u.copyUp(src);
  const dst = u.resolve(to); // after the copy-up, which may have changed the top layer
  const dstParent = dst.kind === 'absent' ? dst.parent : u.parentDir(to);
  u.copyUp(dstParent);
  const aufsMarker = dst.kind === 'absent' && dst.whiteoutAt === 0 && u.format.markerFor(baseName(to)) !== undefined;
  // Over an overlay whiteout or an existing top-layer file, rename(2) replaces atomically.
  host(() => renameSync(upperSrc, u.upperPath(to)));
  if (aufsMarker) u.writer.apply(u.format.unwhiteout(relOf(dstParent.path), baseName(to)));
  whiteoutSource(u, from);
}

function renameDir(u: Union, src: ViewNode, to: ViewPath): void {
  const from = src.path;
  // An empty target directory goes first (leaving a whiteout if lower layers have that name).
  const target = u.resolve(to);
  if (target.kind === 'found') u.removeNode(u.parentDir(to), target.node);
  const node = u.existing(from);
  const hasLower = node.branches.some((b) => b.layer > 0);
  const origin = hasLower ? originOf(from, u.layers) : undefined;
  const upperSrc = u.copyUp(node);
  const dst = u.resolve(to);
  if (dst.kind === 'found') throw fsError('EEXIST', to); // raced with another creator
  const dstParent = dst.parent;
  u.copyUp(dstParent);
  const dstName = baseName(to);
  if (origin !== undefined) u.applyAt(upperSrc, u.format.setRedirect('', origin));
  else if (lowerHas(dstParent, dstName, u.layers, u.format)) u.applyAt(upperSrc, u.format.makeOpaque(''));
  const dstUpper = u.upperPath(to);
  const whiteoutHere = dst.whiteoutAt === 0;
  const inPlace = u.format.markerFor(dstName) === undefined;
  if (whiteoutHere && inPlace) u.writer.apply(u.format.unwhiteout(relOf(dstParent.path), dstName));
  host(() => renameSync(upperSrc, dstUpper));
  if (whiteoutHere && !inPlace) u.writer.apply(u.format.unwhiteout(relOf(dstParent.path), dstName));
  whiteoutSource(u, from);
}

/** After the source left the top layer, hide the name if a lower layer still shows it. */
function whiteoutSource(u: Union, from: ViewPath): void {
  const parent = u.parentDir(from);
  const name = baseName(from);
  if (lowerHas(parent, name, u.layers, u.format)) {
    u.copyUp(parent);
    u.writer.apply(u.format.whiteout(relOf(parent.path), name));
  }
}

function sameObject(u: Union, a: ViewNode, b: ViewNode): boolean {
  if (a.branches[0]!.layer !== b.branches[0]!.layer) return false;
  const sa = u.stat(a);
  const sb = u.stat(b);
  return sa.ino === sb.ino && sa.dev === sb.dev;
}
