// rename(2) across layers. Files are copied up and renamed in the top layer. Directories never
// fail with EXDEV and never lose lower entries: a directory that draws on lower layers is copied
// up alone (not its contents) and carries a redirect to where its lower contents still live, as
// overlayfs does with redirect_dir=on. The old name gets a whiteout when a lower layer still has it.
// An exchange (renameat2 RENAME_EXCHANGE) copies both up the same way and swaps them in the top
// layer in one step: both names stay, so no whiteout is made or removed.
import { originOf } from '../../src/core/origin.js';
import { fsError, isFsError } from '../../src/core/errors.js';
import { renameat2, renameSync, rmSync, RENAME_EXCHANGE, RENAME_WHITEOUT } from '../../src/host/host-fs.js';
import { baseName, childOf, isWithin, parentOf, relOf, ROOT, type ViewPath } from '../../src/core/paths.js';
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

/**
 * Swap `a` and `b` (renameat2 with RENAME_EXCHANGE), whatever their types. Each is copied up as a
 * rename would move it (a directory alone, with a redirect to its lower contents or opaque over
 * the other name's), then the two top-layer entries are exchanged atomically.
 */
export function exchange(u: Union, a: ViewPath, b: ViewPath): void {
  if (a === ROOT || b === ROOT) throw fsError('EBUSY', 'the root of the view');
  const na = u.existing(a);
  const nb = u.existing(b); // ENOENT: an exchange needs both names
  if (a === b || sameObject(u, na, nb)) return; // one inode under both names: nothing changes
  if (isWithin(a, b) || isWithin(b, a)) throw fsError('EINVAL', `${a} and ${b}: one contains the other`);
  u.noteChange(a, na);
  u.noteChange(b, nb);
  const upperA = topCopyFor(u, na, b);
  // Copying `a` up may have copied up a parent of `b`: take it as it is now.
  const upperB = topCopyFor(u, u.existing(b), a);
  u.writer.writing([upperA, upperB], () => renameat2(upperA, upperB, RENAME_EXCHANGE));
  // A directory's own markers (redirect, opaque) moved with it, written by no one: say so.
  if (na.entry.kind === 'dir' || nb.entry.kind === 'dir') for (const p of [upperA, upperB]) u.writer.changed(p, false);
}

/**
 * `node` in the top layer, ready to be moved to `to` without changing what either name shows: a
 * non-directory copied up; a directory copied up alone, with a redirect to where its lower
 * contents live, or, having none, opaque when a lower layer has a `to` whose entries must not
 * show through it. Returns the top-layer host path. Neither marker changes the view before the move.
 */
function topCopyFor(u: Union, node: ViewNode, to: ViewPath): string {
  if (node.entry.kind !== 'dir') return u.copyUp(node);
  const origin = node.branches.some((b) => b.layer > 0) ? originOf(node.path, u.layers) : undefined;
  const upper = u.copyUp(node);
  if (origin !== undefined) setRedirect(u, upper, node.path, to, origin);
  else if (lowerHas(u.parentDir(to), baseName(to), u.layers, u.format)) u.applyAt(upper, u.format.makeOpaque(''));
  return upper;
}

function renameNonDir(u: Union, src: ViewNode, to: ViewPath): void {
  const upperSrc = u.copyUp(src);
  const dst = u.resolve(to); // after the copy-up, which may have changed the top layer
  const dstParent = dst.kind === 'absent' ? dst.parent : u.parentDir(to);
  u.copyUp(dstParent);
  moveInTop(u, upperSrc, src.path, to, dstParent, dst.kind === 'absent' && dst.whiteoutAt === 0, false);
}

function renameDir(u: Union, src: ViewNode, to: ViewPath): void {
  const from = src.path;
  // Its top copy first, with its redirect or opaque marker: neither changes the view yet, and a
  // redirect the format cannot hold (EXDEV) fails the rename before the target below is removed.
  const upperSrc = topCopyFor(u, src, to);
  // An empty target directory goes first (leaving a whiteout if lower layers have that name).
  const target = u.resolve(to);
  if (target.kind === 'found') u.removeNode(u.parentDir(to), target.node);
  const dst = u.resolve(to);
  if (dst.kind === 'found') throw fsError('EEXIST', to); // raced with another creator
  u.copyUp(dst.parent);
  moveInTop(u, upperSrc, from, to, dst.parent, dst.whiteoutAt === 0, true);
}

/**
 * Give the directory moved from `from` to `to` (its top copy at `upperSrc`) a redirect to `origin`:
 * absolute, unless the format cannot hold a path that long (a symlink or an ext4 xattr value of
 * about 4 KiB: a deep directory). Then, moved within its directory, it gets the relative form (the
 * old name below the parent's own origin, as overlayfs writes for such renames); moved elsewhere,
 * EXDEV, as overlayfs answers past its redirect_max: mv copies instead.
 */
function setRedirect(u: Union, upperSrc: string, from: ViewPath, to: ViewPath, origin: string): void {
  const previous = u.layers.redirectOf(0, relOf(from));
  try {
    u.applyAt(upperSrc, u.format.setRedirect('', origin));
    return;
  } catch (e) {
    if (!isFsError(e, 'ENAMETOOLONG', 'E2BIG', 'ENOSPC', 'ERANGE')) throw e;
    // A format may have dropped the old redirect before failing to write the new one (aufs).
    if (previous !== undefined) u.applyAt(upperSrc, u.format.setRedirect('', previous));
  }
  const name = baseName(origin as ViewPath);
  if (parentOf(from) === parentOf(to) && childOf(originOf(parentOf(from), u.layers) as ViewPath, name) === origin) {
    u.applyAt(upperSrc, u.format.setRedirect('', name));
    return;
  }
  throw fsError('EXDEV', `the redirect of ${from} (${Buffer.byteLength(origin)} bytes) is too long for the ${u.format.id} format`);
}

/**
 * Move a top-layer entry from `from` to `to`, replacing a whiteout at `to` and leaving one at
 * `from` when a lower layer still shows that name — each in one atomic step where the format
 * allows: aufs markers are written before the move (an entry beside its marker still shows);
 * overlay whiteouts use renameat2 (RENAME_WHITEOUT, or RENAME_EXCHANGE with the whiteout at `to`).
 */
function moveInTop(u: Union, upperSrc: string, from: ViewPath, to: ViewPath, dstParent: ViewNode, whiteoutAtDst: boolean, isDir: boolean): void {
  // Both names change in the top layer (markers are reported by the writer itself).
  const dstUpper = u.upperPath(to);
  u.writer.writing([upperSrc, dstUpper], () => moveEntry(u, upperSrc, from, to, dstParent, whiteoutAtDst, isDir));
  // A directory's own markers (its redirect) moved with it, written by no one: say so at both names.
  if (isDir) for (const p of [upperSrc, dstUpper]) u.writer.changed(p, false);
}

function moveEntry(u: Union, upperSrc: string, from: ViewPath, to: ViewPath, dstParent: ViewNode, whiteoutAtDst: boolean, isDir: boolean): void {
  const srcParent = u.parentDir(from);
  const srcDir = relOf(srcParent.path);
  const dstDir = relOf(dstParent.path);
  const needWhiteout = lowerHas(srcParent, baseName(from), u.layers, u.format);
  const dstUpper = u.upperPath(to);
  if (u.format.markerFor(baseName(from)) !== undefined) {
    if (needWhiteout) u.writer.apply(u.format.whiteout(srcDir, baseName(from)));
    host(() => renameSync(upperSrc, dstUpper));
    if (whiteoutAtDst) u.writer.apply(u.format.unwhiteout(dstDir, baseName(to)));
    return;
  }
  if (whiteoutAtDst && isDir) {
    // A directory cannot replace the whiteout (a device): swap them, then drop the whiteout.
    if (tryRename(upperSrc, dstUpper, RENAME_EXCHANGE)) {
      if (!needWhiteout) host(() => rmSync(upperSrc));
      return;
    }
    u.writer.apply(u.format.unwhiteout(dstDir, baseName(to)));
  }
  if (needWhiteout && tryRename(upperSrc, dstUpper, RENAME_WHITEOUT)) return;
  host(() => renameSync(upperSrc, dstUpper)); // replaces a non-directory (or whiteout) at `to`
  if (needWhiteout) u.writer.apply(u.format.whiteout(srcDir, baseName(from)));
}

/** renameat2 with `flags`; false when the filesystem or our privileges do not support them. */
function tryRename(from: string, to: string, flags: number): boolean {
  try {
    renameat2(from, to, flags);
    return true;
  } catch (e) {
    if (isFsError(e, 'EINVAL', 'EPERM', 'EOPNOTSUPP', 'ENOSYS')) return false;
    throw e;
  }
}

function sameObject(u: Union, a: ViewNode, b: ViewNode): boolean {
  if (a.branches[0]!.layer !== b.branches[0]!.layer) return false;
  const sa = u.stat(a);
  const sb = u.stat(b);
  return sa.ino === sb.ino && sa.dev === sb.dev;
}
