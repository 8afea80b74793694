// Kernel requests -> WorldFs calls: one method per FUSE opcode, named after it. Node ids are
// turned into view paths through the node table; file handles are WorldFs's own. Methods return
// the reply (or undefined for the requests that get none) and throw FsError for errors.
import { constants as fsConstants } from 'node:fs';
import { constants } from 'node:os';
import { fsError, isFsError } from '../../../src/core/errors.js';
import { NAME_MAX, type ViewPath } from '../../../src/core/paths.js';
import type { Attr, WorldFs } from '../../worldfs.js';
import { DirHandles } from './dirs.js';
import { CacheLedger } from './invalidations.js';
import { InodeTable, type Node } from './inodes.js';
import {
  ATTR_OUT_SIZE, ENTRY_OUT_SIZE, Fattr, FSYNC_FDATASYNC, GETATTR_FH, OPEN_OUT_SIZE, OUT_HEADER_SIZE, Op,
  RENAME_NOREPLACE, STATFS_OUT_SIZE, direntPlusSize, encodeError, scratchReply, direntSize, replyBuffer, setReplyLength, writeAttrOut,
  writeDirent, writeDirentPlus, writeEntry, writeOpenOut, writeStatfs, type Entry, type InHeader, type Reader,
} from './protocol.js';

export interface Request {
  readonly h: InHeader;
  readonly body: Reader;
}

/** Cache lifetimes handed to the kernel, in seconds. */
export interface Timeouts {
  readonly entry: number;
  readonly attr: number;
  readonly negative: number;
}

/** Who asked: new files and directories belong to the caller (see WorldFs's `Owner`). */
const owner = (h: InHeader) => ({ uid: h.uid, gid: h.gid });

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const UNKNOWN_INO = 0xffffffff;
const ENOSYS = constants.errno.ENOSYS;
const { O_TRUNC } = fsConstants;

export class KernelOps {
  readonly nodes = new InodeTable();
  readonly dirs = new DirHandles();
  /** What the kernel may cache of this view (negative entries included), for invalidation. */
  readonly ledger = new CacheLedger(this.nodes);
  private readonly table: ReadonlyMap<number, (r: Request) => Buffer | undefined>;

  /** Where READ and READDIR replies are built; the session writes each reply before the next request. */
  private readonly scratch: Buffer;

  constructor(private readonly fs: WorldFs, private readonly t: Timeouts, maxReply = 1 << 20) {
    this.scratch = Buffer.allocUnsafe(OUT_HEADER_SIZE + maxReply);
    this.table = new Map<number, (r: Request) => Buffer | undefined>([
      [Op.LOOKUP, (r) => this.lookup(r)], [Op.FORGET, (r) => this.forget(r)], [Op.BATCH_FORGET, (r) => this.batchForget(r)],
      [Op.GETATTR, (r) => this.getattr(r)], [Op.SETATTR, (r) => this.setattr(r)], [Op.READLINK, (r) => this.readlink(r)],
      [Op.SYMLINK, (r) => this.symlink(r)], [Op.MKNOD, (r) => this.mknod(r)], [Op.MKDIR, (r) => this.mkdir(r)],
      [Op.UNLINK, (r) => this.unlink(r)], [Op.RMDIR, (r) => this.rmdir(r)], [Op.RENAME, (r) => this.rename(r, false)],
      [Op.RENAME2, (r) => this.rename(r, true)], [Op.LINK, (r) => this.link(r)], [Op.OPEN, (r) => this.open(r)],
      [Op.READ, (r) => this.read(r)], [Op.WRITE, (r) => this.write(r)], [Op.STATFS, (r) => this.statfs(r)],
      [Op.RELEASE, (r) => this.release(r)], [Op.FSYNC, (r) => this.fsync(r)], [Op.FLUSH, (r) => this.empty(r)],
      [Op.SETXATTR, (r) => this.setxattr(r)], [Op.GETXATTR, (r) => this.getxattr(r)],
      [Op.LISTXATTR, (r) => this.listxattr(r)], [Op.REMOVEXATTR, (r) => this.removexattr(r)],
      [Op.OPENDIR, (r) => this.opendir(r)], [Op.READDIR, (r) => this.readdir(r, false)],
      [Op.READDIRPLUS, (r) => this.readdir(r, true)], [Op.RELEASEDIR, (r) => this.releasedir(r)],
      [Op.FSYNCDIR, (r) => this.empty(r)], [Op.ACCESS, (r) => this.access(r)], [Op.CREATE, (r) => this.create(r)],
      [Op.INTERRUPT, () => undefined], // every request is answered before the next is read: nothing to cut short
    ]);
  }

  /** Requests served, lookups counted and forgotten: the soak test's view of the lookup counts. */
  readonly counters = { requests: 0, lookups: 0, forgets: 0 };

  /** Serve one request; unknown opcodes are answered ENOSYS (the kernel then stops sending most of them). */
  dispatch(r: Request): Buffer | undefined {
    this.counters.requests++;
    const fn = this.table.get(r.h.opcode);
    if (!fn) return encodeError(r.h.unique, -ENOSYS);
    return fn(r);
  }

  /** The view path of a request's node, for logs. */
  describe(h: InHeader): string {
    const n = this.nodes.get(h.nodeid);
    return (n && this.nodes.pathOf(n)) ?? `node ${h.nodeid}`;
  }

  /** The notifications that make the kernel forget what it caches of this view (a reload). */
  invalidations(expireOnly: boolean): Buffer[] {
    return this.ledger.all(expireOnly);
  }

  // ---- helpers ------------------------------------------------------------------------------

  private node(id: number): Node {
    const n = this.nodes.get(id);
    if (!n) throw fsError('ESTALE', `node ${id}`);
    return n;
  }

  private pathOf(node: Node): ViewPath {
    const p = this.nodes.pathOf(node);
    if (p === undefined) throw fsError('ENOENT', `node ${node.id} was unlinked`);
    return p;
  }

  private childPath(parent: Node, name: string): ViewPath {
    if (name.length > NAME_MAX / 4 && Buffer.byteLength(name) > NAME_MAX) throw fsError('ENAMETOOLONG', name);
    const p = this.nodes.childPath(parent, name);
    if (p === undefined) throw fsError('ENOENT', `node ${parent.id} was unlinked`);
    return p;
  }

  /** Count one lookup of `name` in `parent` and describe it for an entry reply. */
  private entry(parent: Node, name: string): Entry {
    const attr = this.fs.getattr(this.childPath(parent, name));
    const isDir = (attr.mode & S_IFMT) === S_IFDIR;
    const node = this.nodes.lookup(parent, name, isDir, keyOf(attr), attr.nlink > 1);
    this.counters.lookups++;
    return { nodeid: node.id, generation: 0, entryValid: this.t.entry, attrValid: this.t.attr, attr };
  }

  private entryReply(r: Request, e: Entry): Buffer {
    const b = replyBuffer(r.h.unique, ENTRY_OUT_SIZE);
    writeEntry(b, OUT_HEADER_SIZE, e);
    return b;
  }

  private attrReply(r: Request, a: Attr): Buffer {
    const b = replyBuffer(r.h.unique, ATTR_OUT_SIZE);
    writeAttrOut(b, OUT_HEADER_SIZE, this.t.attr, a);
    return b;
  }

  /** After an operation that may have copied a non-directory up: the node follows its new host identity. */
  private rekey(node: Node, path: ViewPath | undefined = this.nodes.pathOf(node)): void {
    if (node.isDir || path === undefined) return;
    try {
      this.nodes.setKey(node, keyOf(this.fs.getattr(path)));
    } catch { /* gone meanwhile: the next lookup decides */ }
  }

  private empty(r: Request): Buffer {
    return replyBuffer(r.h.unique, 0);
  }

  // ---- names --------------------------------------------------------------------------------

  private lookup(r: Request): Buffer {
    const parent = this.node(r.h.nodeid);
    const name = r.body.cstring();
    try {
      return this.entryReply(r, this.entry(parent, name));
    } catch (e) {
      // A negative entry, cached as long as a positive one would be.
      if (isFsError(e, 'ENOENT') && this.t.negative > 0) {
        this.ledger.rememberNegative(parent.id, name);
        return this.entryReply(r, { nodeid: 0, generation: 0, entryValid: this.t.negative, attrValid: 0 });
      }
      throw e;
    }
  }

  private forget(r: Request): undefined {
    const n = r.body.u64();
    this.counters.forgets += n;
    this.nodes.forget(r.h.nodeid, n);
    return undefined;
  }

  private batchForget(r: Request): undefined {
    const count = r.body.u32();
    r.body.u32();
    for (let i = 0; i < count; i++) {
      const id = r.body.u64();
      const n = r.body.u64();
      this.counters.forgets += n;
      this.nodes.forget(id, n);
    }
    return undefined;
  }

  private mknod(r: Request): Buffer {
    const mode = r.body.u32();
    const rdev = r.body.u32();
    r.body.skip(8); // umask (already applied: no DONT_MASK), padding
    const parent = this.node(r.h.nodeid);
    const name = r.body.cstring();
    this.fs.mknod(this.childPath(parent, name), mode, rdev, owner(r.h));
    return this.entryReply(r, this.entry(parent, name));
  }

  private mkdir(r: Request): Buffer {
    const mode = r.body.u32();
    r.body.skip(4);
    const parent = this.node(r.h.nodeid);
    const name = r.body.cstring();
    this.fs.mkdir(this.childPath(parent, name), mode, owner(r.h));
    return this.entryReply(r, this.entry(parent, name));
  }

  private symlink(r: Request): Buffer {
    const parent = this.node(r.h.nodeid);
    const name = r.body.cstring();
    const target = r.body.cstring();
    this.fs.symlink(target, this.childPath(parent, name), owner(r.h));
    return this.entryReply(r, this.entry(parent, name));
  }

  private link(r: Request): Buffer {
    const source = this.node(r.body.u64());
    const parent = this.node(r.h.nodeid);
    const name = r.body.cstring();
    const from = this.pathOf(source);
    this.fs.link(from, this.childPath(parent, name));
    this.rekey(source, from); // a lower source was copied up: both names are now one top-layer inode
    return this.entryReply(r, this.entry(parent, name));
  }

  private unlink(r: Request): Buffer {
    const parent = this.node(r.h.nodeid);
    const name = r.body.cstring();
    this.fs.unlink(this.childPath(parent, name));
    this.nodes.unlinkName(parent, name);
    return this.empty(r);
  }

  private rmdir(r: Request): Buffer {
    const parent = this.node(r.h.nodeid);
    const name = r.body.cstring();
    this.fs.rmdir(this.childPath(parent, name));
    this.nodes.unlinkName(parent, name);
    return this.empty(r);
  }

  private rename(r: Request, withFlags: boolean): Buffer {
    const newParent = this.node(r.body.u64());
    const flags = withFlags ? r.body.u32() : 0;
    if (withFlags) r.body.skip(4);
    const parent = this.node(r.h.nodeid);
    const oldName = r.body.cstring();
    const newName = r.body.cstring();
    const from = this.childPath(parent, oldName);
    const to = this.childPath(newParent, newName);
    if (flags & ~RENAME_NOREPLACE) throw fsError('EINVAL', `rename flags ${flags}`); // EXCHANGE, WHITEOUT
    if (flags & RENAME_NOREPLACE && exists(() => this.fs.getattr(to))) throw fsError('EEXIST', to);
    this.fs.rename(from, to);
    this.nodes.rename(parent, oldName, newParent, newName);
    const moved = newParent.children.get(newName);
    if (moved) this.rekey(moved, to);
    return this.empty(r);
  }

  // ---- attributes ---------------------------------------------------------------------------

  private getattr(r: Request): Buffer {
    const flags = r.body.u32();
    r.body.skip(4);
    const fh = r.body.u64();
    const node = this.node(r.h.nodeid);
    const a = (flags & GETATTR_FH ? this.fs.fgetattr(fh) : undefined) ?? this.fs.getattr(this.pathOf(node));
    return this.attrReply(r, a);
  }

  private setattr(r: Request): Buffer {
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
    const node = this.node(r.h.nodeid);
    const withFh = (valid & Fattr.FH) !== 0;
    const path = () => this.pathOf(node);
    if (valid & Fattr.MODE) this.fs.chmod(path(), mode);
    if (valid & (Fattr.UID | Fattr.GID)) {
      this.fs.chown(path(), valid & Fattr.UID ? uid : -1, valid & Fattr.GID ? gid : -1);
    }
    if (valid & Fattr.SIZE) {
      if (withFh) this.fs.ftruncate(fh, size);
      else this.fs.truncate(path(), size);
    }
    if (valid & (Fattr.ATIME | Fattr.MTIME)) {
      const time = (set: number, now: number, sec: bigint, nsec: number) =>
        !(valid & set) ? ('omit' as const) : valid & now ? ('now' as const) : sec * 1_000_000_000n + BigInt(nsec);
      this.fs.utimens(path(), time(Fattr.ATIME, Fattr.ATIME_NOW, atime, atimensec), time(Fattr.MTIME, Fattr.MTIME_NOW, mtime, mtimensec));
    }
    this.rekey(node);
    const a = (withFh ? this.fs.fgetattr(fh) : undefined) ?? this.fs.getattr(path());
    return this.attrReply(r, a);
  }

  private readlink(r: Request): Buffer {
    const target = Buffer.from(this.fs.readlink(this.pathOf(this.node(r.h.nodeid))));
    const b = replyBuffer(r.h.unique, target.length);
    target.copy(b, OUT_HEADER_SIZE);
    return b;
  }

  private access(r: Request): Buffer {
    this.fs.access(this.pathOf(this.node(r.h.nodeid)), r.body.u32());
    return this.empty(r);
  }

  private statfs(r: Request): Buffer {
    const b = replyBuffer(r.h.unique, STATFS_OUT_SIZE);
    writeStatfs(b, OUT_HEADER_SIZE, this.fs.statfs());
    return b;
  }

  // ---- files --------------------------------------------------------------------------------

  private open(r: Request): Buffer {
    const flags = r.body.u32();
    const node = this.node(r.h.nodeid);
    const path = this.pathOf(node);
    const fh = this.fs.open(path, flags);
    if ((flags & 3) !== 0 || flags & O_TRUNC) this.rekey(node, path);
    return this.openReply(r, fh);
  }

  private openReply(r: Request, fh: number): Buffer {
    const b = replyBuffer(r.h.unique, OPEN_OUT_SIZE);
    writeOpenOut(b, OUT_HEADER_SIZE, fh, 0);
    return b;
  }

  private create(r: Request): Buffer {
    r.body.u32(); // flags: the file is new, so only its access mode matters, and it is opened read-write
    const mode = r.body.u32();
    r.body.skip(8); // umask (already applied), open_flags
    const parent = this.node(r.h.nodeid);
    const name = r.body.cstring();
    const fh = this.fs.create(this.childPath(parent, name), mode, owner(r.h));
    let e: Entry;
    try {
      e = this.entry(parent, name);
    } catch (err) {
      this.fs.release(fh);
      throw err;
    }
    const b = replyBuffer(r.h.unique, ENTRY_OUT_SIZE + OPEN_OUT_SIZE);
    writeEntry(b, OUT_HEADER_SIZE, e);
    writeOpenOut(b, OUT_HEADER_SIZE + ENTRY_OUT_SIZE, fh, 0);
    return b;
  }

  private read(r: Request): Buffer {
    const fh = r.body.u64();
    const offset = r.body.u64();
    const size = r.body.u32();
    const b = scratchReply(this.scratch, r.h.unique, size);
    const n = this.fs.read(fh, b.subarray(OUT_HEADER_SIZE), size, offset);
    return setReplyLength(b, OUT_HEADER_SIZE + n);
  }

  private write(r: Request): Buffer {
    const fh = r.body.u64();
    const offset = r.body.u64();
    const size = r.body.u32();
    r.body.skip(4 + 8 + 4 + 4); // write_flags, lock_owner, flags, padding
    const n = this.fs.write(fh, r.body.bytes(size), size, offset);
    const b = replyBuffer(r.h.unique, 8);
    b.writeUInt32LE(n, OUT_HEADER_SIZE);
    return b;
  }

  private release(r: Request): Buffer {
    this.fs.release(r.body.u64());
    return this.empty(r);
  }

  private fsync(r: Request): Buffer {
    const fh = r.body.u64();
    this.fs.fsync(fh, (r.body.u32() & FSYNC_FDATASYNC) !== 0);
    return this.empty(r);
  }

  // ---- extended attributes ------------------------------------------------------------------

  private setxattr(r: Request): Buffer {
    const size = r.body.u32();
    const flags = r.body.u32(); // the 8-byte fuse_setxattr_in: SETXATTR_EXT is not negotiated
    const node = this.node(r.h.nodeid);
    const name = r.body.cstring();
    const path = this.pathOf(node);
    this.fs.setxattr(path, name, Buffer.from(r.body.bytes(size)), flags);
    this.rekey(node, path);
    return this.empty(r);
  }

  private getxattr(r: Request): Buffer {
    const size = r.body.u32();
    r.body.skip(4);
    const name = r.body.cstring();
    return sizedReply(r, size, this.fs.getxattr(this.pathOf(this.node(r.h.nodeid)), name));
  }

  private listxattr(r: Request): Buffer {
    const size = r.body.u32();
    const names = this.fs.listxattr(this.pathOf(this.node(r.h.nodeid)));
    return sizedReply(r, size, Buffer.from(names.map((n) => n + '\0').join('')));
  }

  private removexattr(r: Request): Buffer {
    const node = this.node(r.h.nodeid);
    const path = this.pathOf(node);
    this.fs.removexattr(path, r.body.cstring());
    this.rekey(node, path);
    return this.empty(r);
  }

  // ---- directories --------------------------------------------------------------------------

  private opendir(r: Request): Buffer {
    const path = this.pathOf(this.node(r.h.nodeid));
    return this.openReply(r, this.dirs.open(path));
  }

  private releasedir(r: Request): Buffer {
    this.dirs.release(r.body.u64());
    return this.empty(r);
  }

  /** READDIR / READDIRPLUS: entries from `offset` while they fit; each entry's offset is the next one's index. */
  private readdir(r: Request, plus: boolean): Buffer {
    const fh = r.body.u64();
    const offset = r.body.u64();
    const size = r.body.u32();
    const dir = this.node(r.h.nodeid);
    const names = this.dirs.names(fh, offset, (p) => this.fs.readdir(p));
    if (!names) throw fsError('EBADF', `directory handle ${fh}`);
    const b = scratchReply(this.scratch, r.h.unique, size);
    let at = OUT_HEADER_SIZE;
    for (let i = offset; i < names.length; i++) {
      const name = names[i]!;
      const need = plus ? direntPlusSize(name.length) : direntSize(name.length);
      if (at + need > OUT_HEADER_SIZE + size) break;
      if (!plus) {
        at = writeDirent(b, at, UNKNOWN_INO, i + 1, 0, name);
        continue;
      }
      let e: Entry;
      try {
        e = this.entry(dir, name.toString());
      } catch (err) {
        if (!isFsError(err)) throw err;
        e = { nodeid: 0, generation: 0, entryValid: 0, attrValid: 0 }; // gone meanwhile: a plain entry
      }
      at = writeDirentPlus(b, at, e, i + 1, e.attr ? (e.attr.mode >>> 12) & 0o17 : 0, name);
    }
    return setReplyLength(b, at);
  }
}

/** "dev:ino": a non-directory's host identity. */
function keyOf(a: Attr): string {
  return `${a.dev}:${a.ino}`;
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

