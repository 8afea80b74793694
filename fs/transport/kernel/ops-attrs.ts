// Kernel requests about attributes: GETATTR, SETATTR, READLINK, ACCESS, STATFS and the extended
// attributes. Changes to a lower object copy it up (staged when its data is big: op-context.ts).
import { fsError } from '../../../src/core/errors.js';
import { keyOf, type OpContext, type Reply, type Request } from './op-context.js';
import type { Node } from './inodes.js';
import type { Attr, HandleChange, TimeSpec } from '../../worldfs.js';
import { constants } from 'node:os';
import { Fattr, GETATTR_FH, OUT_HEADER_SIZE, STATFS_OUT_SIZE, encodeError, replyBuffer, writeStatfs } from './protocol.js';

const { ENODATA } = constants.errno;

/**
 * GETATTR: through the handle when the kernel gives one and it is still the object's current copy
 * (a read-only lower file stays behind when another handle copies the file up); else by path; for
 * a file with no name left (fstat after unlink: the kernel gives no handle), through its open handles.
 */
export function getattr(c: OpContext, r: Request): Buffer {
  const flags = r.body.u32();
  r.body.skip(4);
  const fh = r.body.u64();
  const node = c.node(r.h.nodeid);
  const path = c.nodes.pathOf(node);
  // A detached node's file is not unlinked (its name went to a new node): its link count stays.
  const unlinked = path === undefined && !node.detached;
  if (flags & GETATTR_FH && fh !== 0) { // fh 0: a file the kernel opened itself (node-files.ts)
    const a = c.fs.fgetattr(fh, unlinked);
    if (a && (path === undefined || keyOf(a) === node.key)) return c.attrReply(r, a);
  }
  return c.attrReply(r, path !== undefined ? c.fs.getattr(path) : unlinkedAttr(c, node, unlinked));
}

/**
 * Attributes of a file with no name left, from its open handles (ENOENT when it has none); of a
 * removed directory, those it had (removed-dirs.ts: the kernel sends directories no handle).
 */
function unlinkedAttr(c: OpContext, node: Node, unlinked = true, hs = c.handlesOf(node)): Attr {
  const a = node.isDir ? c.removedDirs.attrOf(node) : hs.length > 0 ? c.fs.fgetattr(hs[0]!, unlinked) : undefined;
  if (!a) throw fsError('ENOENT', `node ${node.id} was unlinked and is not open`);
  return a;
}

export function setattr(c: OpContext, r: Request): Reply {
  const b = r.body;
  const valid = b.u32();
  b.skip(4);
  const fh = b.u64();
  const size = b.u64();
  b.skip(8); // lock_owner
  const atime = b.i64();
  const mtime = b.i64();
  b.skip(8); // ctime
  const atimensec = b.u32();
  const mtimensec = b.u32();
  b.skip(4);
  const mode = b.u32();
  b.skip(4);
  const uid = b.u32();
  const gid = b.u32();
  const node = c.node(r.h.nodeid);
  const withFh = (valid & Fattr.FH) !== 0 && fh !== 0; // fh 0: a file the kernel opened itself
  const time = (set: number, now: number, sec: bigint, nsec: number): TimeSpec =>
    !(valid & set) ? 'omit' : valid & now ? 'now' : sec * 1_000_000_000n + BigInt(nsec);
  // Nothing to set (chown(f, -1, -1): the kernel sends FATTR_CTIME only when it caches writes):
  // still a change, whose ctime moves, as on the host; done as the same chown on the layer file.
  const touch = (valid & (Fattr.MODE | Fattr.UID | Fattr.GID | Fattr.SIZE | Fattr.ATIME | Fattr.MTIME)) === 0;
  const change = (): HandleChange => ({
    ...(touch ? { uid: 0xffffffff, gid: 0xffffffff } : {}),
    ...(valid & Fattr.MODE ? { mode } : {}),
    ...(valid & Fattr.UID ? { uid } : {}),
    ...(valid & Fattr.GID ? { gid } : {}),
    ...(valid & Fattr.SIZE ? { size } : {}),
    ...(valid & (Fattr.ATIME | Fattr.MTIME) ? {
      atime: time(Fattr.ATIME, Fattr.ATIME_NOW, atime, atimensec), mtime: time(Fattr.MTIME, Fattr.MTIME_NOW, mtime, mtimensec),
    } : {}),
  });
  if (c.nodes.pathOf(node) === undefined && node.isDir) {
    // A removed directory (fchmod of an open one): what is left of it is kept in memory.
    if (valid & Fattr.SIZE) throw fsError('EISDIR', `node ${node.id} is a directory`);
    const a = c.removedDirs.change(node, change());
    if (!a) throw fsError('ENOENT', `node ${node.id} was removed`);
    return c.attrReply(r, a);
  }
  // A detached node without a handle: by its former name (OpContext.formerPath), below.
  if (c.nodes.pathOf(node) === undefined && !(node.detached && !withFh)) {
    // No name left (fchmod, futimens, ftruncate after unlink): only its open handles reach it.
    const hs = withFh ? [fh, ...c.handlesOf(node).filter((h) => h !== fh)] : c.handlesOf(node);
    if (hs.length === 0) throw fsError('ENOENT', `node ${node.id} was unlinked and is not open`);
    c.fs.fsetattr(hs, change());
    if (valid & Fattr.SIZE && valid & Fattr.KILL_SUIDGID) c.fs.dropSuidgid(hs[0]!);
    return c.attrReply(r, unlinkedAttr(c, node, !node.detached, hs));
  }
  const own = valid & Fattr.SIZE ? undefined : c.ownOpen(node);
  if (own !== undefined) {
    // The object is open in the top layer (tar's fchown, fchmod, futimens): through that descriptor.
    c.fs.fsetattr([own], change());
    return c.attrReply(r, c.fs.fgetattr(own)!);
  }
  const run = () => {
    const path = () => c.pathOf(node);
    if (valid & Fattr.MODE) c.fs.chmod(path(), mode);
    if (valid & (Fattr.UID | Fattr.GID) || touch) {
      c.fs.chown(path(), valid & Fattr.UID ? uid : -1, valid & Fattr.GID ? gid : -1);
    }
    if (valid & Fattr.SIZE) {
      if (withFh) c.fs.ftruncate(fh, size);
      else c.fs.truncate(path(), size);
      if (valid & Fattr.KILL_SUIDGID) {
        if (withFh) c.fs.dropSuidgid(fh);
        else c.fs.dropSuidgidAt(path());
      }
    }
    if (valid & (Fattr.ATIME | Fattr.MTIME)) {
      c.fs.utimens(path(), time(Fattr.ATIME, Fattr.ATIME_NOW, atime, atimensec), time(Fattr.MTIME, Fattr.MTIME_NOW, mtime, mtimensec));
    }
    const now = c.rekey(node); // getattr by path: the reply's too, when no handle answers it
    return c.attrReply(r, (withFh ? c.fs.fgetattr(fh) : undefined) ?? now ?? c.fs.getattr(path()));
  };
  // A truncate through a path copies the bytes that stay; anything else copies metadata (or all, metacopy=off).
  if (valid & Fattr.SIZE && !withFh) return c.afterCopyUp(r, node, run, size);
  return c.afterCopyUp(r, node, run, undefined, true);
}

export function readlink(c: OpContext, r: Request): Buffer {
  const target = Buffer.from(c.fs.readlink(c.pathOf(c.node(r.h.nodeid))));
  const b = replyBuffer(r.h.unique, target.length);
  target.copy(b, OUT_HEADER_SIZE);
  return b;
}

export function access(c: OpContext, r: Request): Buffer {
  c.fs.access(c.pathOf(c.node(r.h.nodeid)), r.body.u32());
  return c.empty(r);
}

export function statfs(c: OpContext, r: Request): Buffer {
  const b = replyBuffer(r.h.unique, STATFS_OUT_SIZE);
  writeStatfs(b, OUT_HEADER_SIZE, c.fs.statfs());
  return b;
}

export function setxattr(c: OpContext, r: Request): Reply {
  const size = r.body.u32();
  const flags = r.body.u32(); // the 8-byte fuse_setxattr_in: SETXATTR_EXT is not negotiated
  const node = c.node(r.h.nodeid);
  const name = r.body.cstring();
  const value = Buffer.from(r.body.bytes(size)); // a copy: the request buffer is reused
  return c.afterCopyUp(r, node, () => {
    const path = c.pathOf(node);
    c.fs.setxattr(path, name, value, flags);
    c.rekey(node, path);
    return c.empty(r);
  }, undefined, true);
}

export function getxattr(c: OpContext, r: Request): Buffer {
  const size = r.body.u32();
  r.body.skip(4);
  const name = r.body.cstring();
  // ENODATA without an exception: the kernel asks for security.capability before most writes, and
  // before a chown; mostly of a file open for writing, so through its descriptor where it is open.
  const node = c.node(r.h.nodeid);
  const own = c.ownOpen(node);
  const value = own !== undefined ? c.fs.fgetxattr(own, name) : c.fs.findXattr(c.pathOf(node), name);
  return value === undefined ? encodeError(r.h.unique, -ENODATA) : sizedReply(r, size, value);
}

export function listxattr(c: OpContext, r: Request): Buffer {
  const size = r.body.u32();
  const names = c.fs.listxattr(c.pathOf(c.node(r.h.nodeid)));
  return sizedReply(r, size, Buffer.from(names.map((n) => n + '\0').join('')));
}

export function removexattr(c: OpContext, r: Request): Reply {
  const node = c.node(r.h.nodeid);
  const name = r.body.cstring();
  return c.afterCopyUp(r, node, () => {
    const path = c.pathOf(node);
    c.fs.removexattr(path, name);
    c.rekey(node, path);
    return c.empty(r);
  }, undefined, true);
}

/** getxattr/listxattr: the size when asked with size 0, ERANGE when the value does not fit. */
function sizedReply(r: Request, size: number, value: Buffer): Buffer {
  if (size === 0) {
    const b = replyBuffer(r.h.unique, 8);
    b.writeUInt32LE(value.length, OUT_HEADER_SIZE);
    return b;
  }
  if (value.length > size) throw fsError('ERANGE', `${value.length} bytes do not fit in ${size}`);
  const b = replyBuffer(r.h.unique, value.length);
  value.copy(b, OUT_HEADER_SIZE);
  return b;
}
