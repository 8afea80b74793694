// Kernel requests about names: LOOKUP, FORGET/BATCH_FORGET (the kernel's lookup counts), MKNOD,
// MKDIR, SYMLINK, LINK, UNLINK, RMDIR, RENAME/RENAME2. Each returns its reply and throws FsError.
import { fsError, isFsError } from '../../../src/core/errors.js';
import type { ViewPath } from '../../../src/core/paths.js';
import type { Node } from './inodes.js';
import { owner, umaskOf, type OpContext, type Reply, type Request } from './op-context.js';
import { constants } from 'node:os';
import { RENAME_EXCHANGE, RENAME_NOREPLACE, encodeError } from './protocol.js';

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const { ENOENT } = constants.errno;

export function lookup(c: OpContext, r: Request): Buffer {
  const parent = c.node(r.h.nodeid);
  const name = r.body.cstring();
  try {
    // A name that is not there is answered without an exception (a create looks its name up first).
    const path = c.childPath(parent, name);
    const known = c.fs.lookupAttr(path);
    if (known !== undefined) return c.entryReply(r, c.entry(parent, name, known, path));
  } catch (e) {
    if (!isFsError(e, 'ENOENT')) throw e;
  }
  // A negative entry, cached as long as a positive one would be.
  if (c.t.negative > 0) {
    c.ledger.rememberNegative(parent.id, name);
    return c.entryReply(r, { nodeid: 0, generation: 0, entryValid: c.t.negative, attrValid: 0 });
  }
  return encodeError(r.h.unique, -ENOENT);
}

export function forget(c: OpContext, r: Request): undefined {
  const n = r.body.u64();
  c.counters.forgets += n;
  forgetNode(c, Number(r.h.nodeid), n);
  return undefined;
}

/** Count `n` lookups of node `id` forgotten; a node the table drops closes the handle kept of it. */
function forgetNode(c: OpContext, id: number, n: number): void {
  c.nodes.forget(id, n);
  if (c.files.size > 0 && c.nodes.get(id) === undefined) c.files.drop(id);
}

export function batchForget(c: OpContext, r: Request): undefined {
  const count = r.body.u32();
  r.body.u32();
  for (let i = 0; i < count; i++) {
    const id = r.body.u64();
    const n = r.body.u64();
    c.counters.forgets += n;
    forgetNode(c, id, n);
  }
  return undefined;
}

export function mknod(c: OpContext, r: Request): Buffer {
  const mode = r.body.u32();
  const rdev = r.body.u32();
  const umask = umaskOf(c, r.body.u32());
  r.body.skip(4); // padding
  const parent = c.node(r.h.nodeid);
  const name = r.body.cstring();
  c.fs.mknod(c.childPath(parent, name), mode, rdev, owner(r.h), umask);
  return c.entryReply(r, c.entry(parent, name));
}

export function mkdir(c: OpContext, r: Request): Buffer {
  const mode = r.body.u32();
  const umask = umaskOf(c, r.body.u32());
  const parent = c.node(r.h.nodeid);
  const name = r.body.cstring();
  c.fs.mkdir(c.childPath(parent, name), mode, owner(r.h), umask);
  return c.entryReply(r, c.entry(parent, name));
}

export function symlink(c: OpContext, r: Request): Buffer {
  const parent = c.node(r.h.nodeid);
  const name = r.body.cstring();
  const target = r.body.cstring();
  c.fs.symlink(target, c.childPath(parent, name), owner(r.h));
  return c.entryReply(r, c.entry(parent, name));
}

/**
 * LINK of a lower file copies it up first (both names then are one top-layer inode). LINK of a
 * file with no name, which the kernel allows only for an O_TMPFILE one (TMPFILE, not O_EXCL), gives
 * it its first name from its descriptor, and its node keeps serving it.
 */
export function link(c: OpContext, r: Request): Reply {
  const source = c.node(r.body.u64());
  const parent = c.node(r.h.nodeid);
  const name = r.body.cstring();
  if (source.links.length === 0 && !source.detached) {
    const fh = c.handlesOf(source)[0] ?? c.files.keptOf(source);
    if (fh === undefined) throw fsError('ENOENT', `node ${source.id} has no name and no open file`);
    const path = c.childPath(parent, name);
    c.fs.linkHandle(fh, path);
    return c.entryReply(r, c.entry(parent, name, undefined, path, true));
  }
  return c.afterCopyUp(r, source, () => {
    const from = c.pathOf(source);
    c.fs.link(from, c.childPath(parent, name));
    c.rekey(source, from);
    return c.entryReply(r, c.entry(parent, name));
  });
}

export const unlink = (c: OpContext, r: Request): Buffer => removeName(c, r, (p) => c.fs.unlink(p));
/** RMDIR, keeping the directory's attributes for the kernel's remaining holders (removed-dirs.ts). */
export function rmdir(c: OpContext, r: Request): Buffer {
  const parent = c.node(r.h.nodeid);
  const name = r.body.cstring();
  const path = c.childPath(parent, name);
  const node = parent.children.get(name);
  let before;
  try {
    before = node?.isDir ? c.fs.getattr(path) : undefined;
  } catch (e) {
    if (!isFsError(e)) throw e; // rmdir answers that itself
  }
  c.fs.rmdir(path);
  c.nodes.unlinkName(parent, name);
  if (node && before) c.removedDirs.remember(node, before);
  return c.empty(r);
}

/** UNLINK / RMDIR: `remove` the name's view path, then drop the name from the node table. */
function removeName(c: OpContext, r: Request, remove: (path: ViewPath) => void): Buffer {
  const parent = c.node(r.h.nodeid);
  const name = r.body.cstring();
  const path = c.childPath(parent, name);
  keepIfOpen(c, parent.children.get(name), path);
  remove(path);
  c.nodes.unlinkName(parent, name);
  return c.empty(r);
}

/**
 * RENAME / RENAME2 (NOREPLACE, or EXCHANGE; WHITEOUT is refused, as overlayfs does). A lower file
 * is copied up first (both, for an exchange).
 */
export function rename(c: OpContext, r: Request, withFlags: boolean): Reply {
  const newParent = c.node(r.body.u64());
  const flags = withFlags ? r.body.u32() : 0;
  if (withFlags) r.body.skip(4);
  const parent = c.node(r.h.nodeid);
  const oldName = r.body.cstring();
  const newName = r.body.cstring();
  if (flags !== 0 && flags !== RENAME_NOREPLACE && flags !== RENAME_EXCHANGE) throw fsError('EINVAL', `rename flags ${flags}`);
  if (flags === RENAME_EXCHANGE) return exchange(c, r, parent, oldName, newParent, newName);
  const run = () => {
    const from = c.childPath(parent, oldName);
    const to = c.childPath(newParent, newName);
    if (flags & RENAME_NOREPLACE && exists(() => c.fs.getattr(to))) throw fsError('EEXIST', to);
    const victim = newParent.children.get(newName);
    if (victim !== parent.children.get(oldName)) keepIfOpen(c, victim, to);
    c.fs.rename(from, to);
    c.nodes.rename(parent, oldName, newParent, newName);
    const moved = newParent.children.get(newName);
    if (moved) c.rekey(moved, to);
    return c.empty(r);
  };
  const source = parent.children.get(oldName);
  return source && !source.isDir ? c.afterCopyUp(r, source, run) : run();
}

/** RENAME_EXCHANGE: both names stay, so no node loses its name; both follow their copy-up. */
function exchange(c: OpContext, r: Request, parentA: Node, nameA: string, parentB: Node, nameB: string): Reply {
  const files = [parentA.children.get(nameA), parentB.children.get(nameB)].filter((n): n is Node => n !== undefined && !n.isDir);
  return c.afterCopyUps(r, files, () => {
    const a = c.childPath(parentA, nameA);
    const b = c.childPath(parentB, nameB);
    c.fs.exchange(a, b);
    c.nodes.exchange(parentA, nameA, parentB, nameB);
    const nowA = parentA.children.get(nameA);
    const nowB = parentB.children.get(nameB);
    if (nowA) c.rekey(nowA, a);
    if (nowB) c.rekey(nowB, b);
    return c.empty(r);
  });
}

/**
 * Where the kernel opens files itself, we cannot know whether the file losing its name `path` is
 * open: a regular file the kernel holds keeps a handle (node-files.ts), its way in once the name
 * is gone. Only a regular file: opening a FIFO would wait for a writer, and a device's open may
 * act on the device.
 */
function keepIfOpen(c: OpContext, node: Node | undefined, path: ViewPath): void {
  if (!node || node.isDir || node.links.length !== 1 || node.nlookup === 0 || !c.files.opens.active) return;
  let a;
  try {
    a = c.fs.getattr(path);
  } catch {
    return; // gone: the removal answers that
  }
  // Its highest copy in the top layer (as inTopLayer, without resolving the path again): read-write.
  if ((a.mode & S_IFMT) === S_IFREG) c.files.keepAlive(node, a.layer === 0);
}

function exists(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (isFsError(e, 'ENOENT')) return false;
    throw e;
  }
}
