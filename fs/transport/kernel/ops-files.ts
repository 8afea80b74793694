// Kernel requests about open files and directories: OPEN, CREATE, READ, WRITE, RELEASE, FSYNC,
// FALLOCATE, OPENDIR, READDIR/READDIRPLUS, RELEASEDIR. Opening a lower file for writing copies it up
// (staged when its data is big: op-context.ts); file handles are WorldFs's own; directories are
// opened by the kernel itself where their listings are notified (dirs.ts).
import { constants as fsConstants } from 'node:fs';
import { fsError, isFsError } from '../../../src/core/errors.js';
import { childOf, type ViewPath } from '../../../src/core/paths.js';
import type { OpenFile } from '../../handles.js';
import type { Attr } from '../../worldfs.js';
import type { Node } from './inodes.js';
import { DOTS_ONLY, firstAfter, listingOf, type Listing } from './listing.js';
import { owner, umaskOf, type OpContext, type Reply, type Request } from './op-context.js';
import {
  ENTRY_OUT_SIZE, FOPEN_CACHE_DIR, FOPEN_KEEP_CACHE, FOPEN_PASSTHROUGH, FSYNC_FDATASYNC, OPEN_KILL_SUIDGID, OPEN_OUT_SIZE, WRITE_KILL_SUIDGID, OUT_HEADER_SIZE, direntPlusSize, direntSize, replyBuffer, scratchReply,
  setReplyLength, writeDirent, writeDirentPlus, writeEntry, writeOpenOut, type Entry,
} from './protocol.js';

const { O_APPEND, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY } = fsConstants;
const O_ACCMODE = 3;
const UNKNOWN_INO = 0xffffffff;
const DT_DIR = 4;

export function open(c: OpContext, r: Request): Reply {
  if (c.files.opensItself(c.listingsNotified)) throw fsError('ENOSYS', 'OPEN: the kernel opens files itself (node-files.ts)');
  const flags = r.body.u32();
  const openFlags = r.body.u32();
  const node = c.node(r.h.nodeid);
  const run = () => {
    // Opens of a detached node are retried on the node its names went to (op-context.ts formerPath).
    if (node.detached) throw fsError('ESTALE', `node ${node.id}: its names moved to a new node`);
    const path = c.pathOf(node);
    const fh = c.writeback ? openForWriteback(c, path, flags) : c.fs.open(path, flags);
    if (flags & O_TRUNC && openFlags & OPEN_KILL_SUIDGID) c.fs.dropSuidgid(fh);
    const readOnly = (flags & O_ACCMODE) === 0;
    const f = c.fs.handles.get(fh);
    // Pages kept across opens only where no passthrough write may have gone around them.
    const keeps = f !== undefined && !node.passthroughUsed && c.keepsData(f.layer);
    const backingId = passthroughOf(c, node, fh, readOnly, keeps && readOnly && !(flags & O_TRUNC) && smallLower(f));
    if (!readOnly || flags & O_TRUNC) c.rekey(node, path);
    c.opened.add(fh, node);
    const keep = backingId === 0 && keeps;
    return openReply(r, fh, backingId > 0 ? FOPEN_PASSTHROUGH : keep ? FOPEN_KEEP_CACHE : 0, backingId);
  };
  if ((flags & O_ACCMODE) === 0 && !(flags & O_TRUNC)) return run();
  return c.afterCopyUp(r, node, run, flags & O_TRUNC ? 0 : undefined);
}

/**
 * The backing id to answer the open of handle `fh` on `node` with (0: we serve it). A top-layer
 * file of its own may be passthrough in any mode (but a setuid file's writes come to us); a lower
 * one (or a metacopy file's lower data) only read-only, and a write open has copied it up already. When the node's open files are
 * of another host file (the file was copied up under them), the kernel would refuse either answer
 * (passthrough ones), or mix the two files in one page cache (served ones): the handle is closed,
 * the node's names go to a new node, and ESTALE makes the kernel look the name up again and retry
 * the open there (passthrough.ts). The old handles keep reading the old copy.
 */
function passthroughOf(c: OpContext, node: Node, fh: number, readOnly: boolean, cached = false): number {
  const f = c.fs.handles.get(fh);
  if (!f) return 0;
  const mode = c.passthrough.open(node.id, fh, f.fd, readOnly, f.own, f.openStat, cached);
  if (mode === 'conflict') {
    c.fs.release(fh);
    const at = c.nodes.pathOf(node);
    c.detach(node, at === undefined ? -1 : c.fs.getattr(at).ino); // st_ino survives the copy-up
    throw fsError('ESTALE', `${f.path}: copied up while open with passthrough to its old copy; the name moves to a new node`);
  }
  if (mode > 0) node.passthroughUsed = true;
  return mode;
}

/**
 * Below this size a read-only file of a lower layer is served from the kernel's page cache, kept
 * across opens, rather than by passthrough: a passthrough read marks the kernel's atime stale, so
 * the next stat of the file is a GETATTR, and what is opened again and again (headers, man pages,
 * a program's small files) is mostly small. One READ fills the cache; a big file read once is
 * better read by the kernel from its layer (sha1sum of /usr/bin).
 */
export const CACHED_FILE_MAX = 64 * 1024;

/** Whether `f` is open on a lower layer's regular file of at most CACHED_FILE_MAX bytes. */
function smallLower(f: OpenFile): boolean {
  const st = f.openStat;
  return st !== undefined && !f.own && (Number(st.mode) & 0o170000) === 0o100000 && st.size <= CACHED_FILE_MAX;
}

/**
 * With the kernel caching writes, as libfuse's passthrough does: write-only opens read too (the
 * kernel fills partial pages), and O_APPEND is dropped (the kernel sends each write at the offset
 * it computed; an O_APPEND descriptor would append it wherever it belongs). A file the daemon
 * may not read (mode 0200, rootless) keeps its write-only open.
 */
function openForWriteback(c: OpContext, path: ViewPath, flags: number): number {
  const f = flags & ~O_APPEND;
  if ((f & O_ACCMODE) !== O_WRONLY) return c.fs.open(path, f);
  try {
    return c.fs.open(path, (f & ~O_ACCMODE) | O_RDWR);
  } catch (e) {
    if (!isFsError(e, 'EACCES')) throw e;
    return c.fs.open(path, f);
  }
}

function openReply(r: Request, fh: number, openFlags = 0, backingId = 0): Buffer {
  const b = replyBuffer(r.h.unique, OPEN_OUT_SIZE);
  writeOpenOut(b, OUT_HEADER_SIZE, fh, openFlags, backingId);
  return b;
}

/** fuse_create_in, as CREATE and TMPFILE carry it: the mode, and the umask for us to apply (umaskOf). */
function createIn(c: OpContext, r: Request): { mode: number; umask: number | undefined } {
  r.body.u32(); // flags: the file is new, so only its access mode matters, and it is opened read-write
  const mode = r.body.u32();
  const umask = umaskOf(c, r.body.u32());
  r.body.skip(4); // open_flags
  return { mode, umask };
}

export function create(c: OpContext, r: Request): Buffer {
  const { mode, umask } = createIn(c, r);
  const parent = c.node(r.h.nodeid);
  const name = r.body.cstring();
  const fh = c.fs.create(c.childPath(parent, name), mode, owner(r.h), umask);
  return madeAndOpened(c, r, fh, (made) => c.entry(parent, name, made));
}

/**
 * TMPFILE, open(2) with O_TMPFILE: CREATE with no name. The file is made in the work directory
 * (fs/union/files.ts `tmpfile`) and its node has no name until a LINK gives it one (ops-names.ts);
 * closed before, both are gone. The name the request carries ("/") is none.
 */
export function tmpfile(c: OpContext, r: Request): Buffer {
  const { mode, umask } = createIn(c, r);
  const parent = c.node(r.h.nodeid);
  const fh = c.fs.tmpfile(c.pathOf(parent), mode, owner(r.h), umask);
  return madeAndOpened(c, r, fh, (made) => {
    if (made === undefined) throw fsError('EBADF', `handle ${fh}: gone before its reply`);
    return c.nameless(parent, made);
  });
}

/**
 * CREATE's and TMPFILE's reply for the new file open as `fh`: its entry (counted by `count`) and
 * its open. The entry's attributes come from the new file's descriptor (the path's answer, without
 * resolving it again), as fstat gave them at the open: a new file, in the top layer, with the
 * number the handle reports.
 */
function madeAndOpened(c: OpContext, r: Request, fh: number, count: (made: Attr | undefined) => Entry): Buffer {
  let e: Entry;
  try {
    const made = c.fs.attrAtOpen(fh);
    if (made) made.layer = 0;
    e = count(made);
  } catch (err) {
    c.fs.release(fh);
    throw err;
  }
  const node = c.node(e.nodeid);
  const b = replyBuffer(r.h.unique, ENTRY_OUT_SIZE + OPEN_OUT_SIZE);
  writeEntry(b, OUT_HEADER_SIZE, e);
  c.opened.add(fh, node);
  if (c.files.opensItself(c.listingsNotified)) {
    // The kernel opens files itself: it sends no RELEASE for this open either (fuse_file_put).
    // The new file's handle becomes the node's own, and the open gets fh 0 (its WRITEs come by
    // node); no passthrough, whose writes would go around the page cache the kernel's own opens
    // of the file read through.
    c.files.adopt(node, fh);
    writeOpenOut(b, OUT_HEADER_SIZE + ENTRY_OUT_SIZE, 0, 0, 0);
    return b;
  }
  let backingId: number;
  try {
    backingId = passthroughOf(c, node, fh, false);
  } catch (err) {
    c.opened.remove(fh);
    c.nodes.forget(node.id, 1); // the kernel gets no entry: the lookup `count` counted is not its
    throw err;
  }
  writeOpenOut(b, OUT_HEADER_SIZE + ENTRY_OUT_SIZE, fh, backingId > 0 ? FOPEN_PASSTHROUGH : 0, backingId);
  return b;
}

export function read(c: OpContext, r: Request): Buffer {
  c.counters.reads++;
  const fh = byNode(c, r, r.body.u64());
  const offset = r.body.u64();
  const size = r.body.u32();
  const b = scratchReply(c.scratch, r.h.unique, size);
  const n = c.fs.read(fh, b.subarray(OUT_HEADER_SIZE), size, offset);
  return setReplyLength(b, OUT_HEADER_SIZE + n);
}

export function write(c: OpContext, r: Request): Reply {
  const handle = r.body.u64();
  const offset = r.body.u64();
  const size = r.body.u32();
  const writeFlags = r.body.u32();
  r.body.skip(8 + 4 + 4); // lock_owner, flags, padding
  c.counters.writes++;
  const run = (fh: number, data: Buffer<ArrayBufferLike>) => {
    if (writeFlags & WRITE_KILL_SUIDGID) c.fs.dropSuidgid(fh);
    const n = c.fs.write(fh, data, size, offset);
    const b = replyBuffer(r.h.unique, 8);
    b.writeUInt32LE(n, OUT_HEADER_SIZE);
    return b;
  };
  if (!c.files.opens.byNode(handle)) return run(handle, r.body.bytes(size));
  return byNodeForWriting(c, r, run, r.body.bytes(size));
}

/**
 * The handle a READ with fh 0 goes through where the kernel opens files itself: the node's own
 * (node-files.ts). Any other handle is the kernel's, from OPEN or CREATE.
 */
function byNode(c: OpContext, r: Request, fh: number): number {
  return c.files.opens.byNode(fh) ? c.files.handle(c.node(r.h.nodeid), false) : fh;
}

/**
 * A WRITE or FALLOCATE with fh 0 (the kernel opened the file itself): through the node's writable
 * handle, the node copied up first as a write open would (staged when its data is big). `data`
 * (the request's) is copied when the copy-up is staged: the next request reuses the buffer.
 */
function byNodeForWriting(c: OpContext, r: Request, then: (fh: number, data: Buffer<ArrayBufferLike>) => Buffer, data: Buffer<ArrayBufferLike> = Buffer.alloc(0)): Reply {
  const node = c.node(r.h.nodeid);
  const ready = c.files.writableOf(node);
  if (ready !== undefined) return then(ready, data);
  let own = data;
  const reply = c.afterCopyUp(r, node, () => then(c.files.handle(node, true), own));
  if (reply instanceof Promise) own = Buffer.from(data);
  return reply;
}

export function release(c: OpContext, r: Request): Buffer {
  releaseHandle(c, r.body.u64());
  return c.empty(r);
}

/** Close file handle `fh`: RELEASE, or an OPEN / CREATE whose reply the kernel did not take. */
export function releaseHandle(c: OpContext, fh: number): void {
  c.opened.remove(fh);
  c.passthrough.release(fh);
  c.fs.release(fh);
}

/**
 * FALLOCATE: the mode is passed to the layer file as is. The kernel sends only what FUSE supports
 * (plain, KEEP_SIZE, PUNCH_HOLE, ZERO_RANGE; it answers COLLAPSE_RANGE and INSERT_RANGE itself,
 * EOPNOTSUPP) and only for a file open for writing.
 */
export function fallocate(c: OpContext, r: Request): Reply {
  const fh = r.body.u64();
  const offset = r.body.i64();
  const length = r.body.i64();
  const mode = r.body.u32();
  const run = (h: number) => {
    c.fs.fallocate(h, mode, offset, length);
    return c.empty(r);
  };
  return c.files.opens.byNode(fh) ? byNodeForWriting(c, r, run) : run(fh);
}

export function fsync(c: OpContext, r: Request): Buffer {
  const fh = r.body.u64();
  const datasync = (r.body.u32() & FSYNC_FDATASYNC) !== 0;
  // The kernel opened the file itself: what was written went through the node's handle, or through
  // one closed since (its data is in the host's page cache): fsync of any descriptor of the file.
  if (!c.files.opens.byNode(fh)) c.fs.fsync(fh, datasync);
  else withAnyHandle(c, c.node(r.h.nodeid), (h) => c.fs.fsync(h, datasync));
  return c.empty(r);
}

/**
 * LSEEK: SEEK_DATA and SEEK_HOLE (the kernel answers SEEK_SET, SEEK_CUR and SEEK_END itself), on
 * the layer file, so `cp --sparse` and `tar -S` skip its holes; ENXIO at or past the end. Before,
 * ENOSYS made the kernel call every offset data: a 2 GB file of holes was read whole.
 */
export function lseek(c: OpContext, r: Request): Buffer {
  const fh = r.body.u64();
  const offset = r.body.i64();
  const whence = r.body.u32();
  const seek = (h: number) => c.fs.seekData(h, offset, whence);
  const at = c.files.opens.byNode(fh) ? withAnyHandle(c, c.node(r.h.nodeid), seek) : seek(fh);
  // Never a guess: SEEK_HOLE answered wrong would make a copy skip data.
  if (at === undefined) throw fsError('EIO', `node ${r.h.nodeid}: no name left and no handle kept to seek in`);
  const b = replyBuffer(r.h.unique, 8);
  b.writeBigInt64LE(at, OUT_HEADER_SIZE);
  return b;
}

/**
 * `fn` of a handle of `node`, a file the kernel opened itself: the one it keeps, or one opened
 * read-only for the call; undefined (`fn` not run) when the node has no name left and none is kept.
 */
function withAnyHandle<T>(c: OpContext, node: Node, fn: (h: number) => T): T | undefined {
  const kept = c.files.keptOf(node);
  if (kept !== undefined) return fn(kept);
  const path = c.nodes.pathOf(node);
  if (path === undefined) return undefined;
  const h = c.fs.open(path, O_RDONLY);
  try {
    return fn(h);
  } finally {
    c.fs.release(h);
  }
}

/**
 * OPENDIR. Where every layer's changes are reported (listingsNotified) at the first one, it is
 * answered ENOSYS, and the kernel opens directories itself from then on (dirs.ts): no OPENDIR and
 * no RELEASEDIR, each open keeping the cached listing (FOPEN_KEEP_CACHE|FOPEN_CACHE_DIR), READDIR
 * with fh 0. Otherwise a handle, whose listing the kernel keeps only while it is notified.
 */
export function opendir(c: OpContext, r: Request): Buffer {
  c.dirs.counters.opendirs++;
  if (c.dirs.opensItself(c.listingsNotified)) throw fsError('ENOSYS', 'OPENDIR: the kernel opens directories itself (listings are notified)');
  const node = c.node(r.h.nodeid);
  // A removed directory reopened through /proc/self/fd, as ext4 allows: the kernel lists no dead directory.
  const path = c.removedDirs.attrOf(node) && c.nodes.pathOf(node) === undefined ? undefined : c.pathOf(node);
  // A listing merges every layer: the kernel keeps it only when every layer's changes are reported
  // (each invalidates the directory's inode, and with it the cached listing).
  return openReply(r, c.dirs.open(path), c.listingsNotified ? FOPEN_CACHE_DIR | FOPEN_KEEP_CACHE : 0);
}

export function releasedir(c: OpContext, r: Request): Buffer {
  c.dirs.counters.releasedirs++;
  c.dirs.release(r.body.u64());
  return c.empty(r);
}

/** An entry of a READDIRPLUS with no attributes: the kernel lists the name and caches nothing. */
const PLAIN_ENTRY: Entry = { nodeid: 0, generation: 0, entryValid: 0, attrValid: 0 };

/**
 * READDIR / READDIRPLUS: entries after `offset` while they fit; each entry's offset is its cookie
 * (listing.ts: the same in every listing of the directory). A listing starts with `.` and `..`, as
 * on ext4: a program may expect them, and a listing the kernel caches (FOPEN_CACHE_DIR) is then
 * never empty — an empty cached listing has no page for NOTIFY_INVAL_INODE to drop, so a
 * lower-layer change would never show in it.
 */
export function readdir(c: OpContext, r: Request, plus: boolean): Buffer {
  c.counters.readdirs++;
  const fh = r.body.u64();
  const offset = r.body.u64();
  const size = r.body.u32();
  const dir = c.node(r.h.nodeid);
  const byNode = c.dirs.opens.byNode(fh);
  const l = byNode ? listingByNode(c, dir, offset) : c.dirs.listing(fh, offset, (p) => c.fs.readdir(p));
  if (!l) throw fsError('EBADF', `directory handle ${fh}`);
  const start = firstAfter(l, offset);
  if (byNode && start >= l.names.length) c.dirs.byNode.done(dir.id); // the end: this pass reads no more
  const b = scratchReply(c.scratch, r.h.unique, size);
  let at = OUT_HEADER_SIZE;
  // The directory's path, once: each entry's is that and its name (undefined: the directory has no
  // name left, and every entry is a plain one).
  const dirPath = plus ? c.nodes.pathOf(dir) : undefined;
  for (let i = start; i < l.names.length; i++) {
    const name = l.names[i]!;
    const off = l.cookies[i]!;
    const need = plus ? direntPlusSize(name.length) : direntSize(name.length);
    if (at + need > OUT_HEADER_SIZE + size) break;
    if (!plus) {
      at = writeDirent(b, at, UNKNOWN_INO, off, i < 2 ? DT_DIR : 0, name);
      continue;
    }
    if (i < 2) {
      // The kernel links no node for `.` and `..` (fuse_direntplus_link skips them): no lookup to count.
      at = writeDirentPlus(b, at, PLAIN_ENTRY, off, DT_DIR, name);
      continue;
    }
    let e: Entry = PLAIN_ENTRY;
    if (dirPath !== undefined) {
      try {
        const n = name.toString();
        e = c.entry(dir, n, undefined, childOf(dirPath, n));
      } catch (err) {
        if (!isFsError(err)) throw err; // gone meanwhile: a plain entry
      }
    }
    at = writeDirentPlus(b, at, e, off, e.attr ? (e.attr.mode >>> 12) & 0o17 : 0, name);
  }
  return setReplyLength(b, at);
}

/**
 * The listing a READDIR with no handle reads (the kernel opened the directory itself): the one a
 * pass took at offset 0 (node-listings.ts), or a fresh one (readdir lets it go at the end of the
 * pass). A directory with no path left
 * (removed, or replaced under its name) lists `.` and `..` only. While listings are not all
 * notified, the kernel's copy is dropped within the fallback lifetime (ListingSweep).
 */
function listingByNode(c: OpContext, dir: Node, offset: number): Listing {
  const l = c.dirs.byNode.at(dir.id, offset, () => {
    const path = c.nodes.pathOf(dir);
    return path === undefined ? DOTS_ONLY : listingOf(c.fs.readdir(path));
  });
  if (!c.listingsNotified) c.dirs.sweep.add(dir.id, c.t.entry, c.notify);
  return l;
}
