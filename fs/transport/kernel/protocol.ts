// The FUSE kernel protocol (linux/fuse.h, 7.38 layouts): opcodes, INIT flags, and the encoders and
// decoders for the structures worldfs exchanges with /dev/fuse. Pure: Buffers in, Buffers out.
import { endianness } from 'node:os';
import type { Attr, StatFs } from '../../union/attr.js';

/** The protocol we speak: 7.38 (every struct below has its 7.38 size). */
export const KERNEL_VERSION = 7;
export const KERNEL_MINOR_VERSION = 38;
/** The oldest minor we accept: 7.31 has MAX_PAGES, CACHE_SYMLINKS and the 64-byte init_out. */
export const MIN_MINOR_VERSION = 31;
export const ROOT_ID = 1;
/** FUSE_MIN_READ_BUFFER: the kernel refuses smaller reads. */
export const MIN_READ_BUFFER = 8192;

export const Op = {
  LOOKUP: 1, FORGET: 2, GETATTR: 3, SETATTR: 4, READLINK: 5, SYMLINK: 6, MKNOD: 8, MKDIR: 9,
  UNLINK: 10, RMDIR: 11, RENAME: 12, LINK: 13, OPEN: 14, READ: 15, WRITE: 16, STATFS: 17,
  RELEASE: 18, FSYNC: 20, SETXATTR: 21, GETXATTR: 22, LISTXATTR: 23, REMOVEXATTR: 24, FLUSH: 25,
  INIT: 26, OPENDIR: 27, READDIR: 28, RELEASEDIR: 29, FSYNCDIR: 30, GETLK: 31, SETLK: 32,
  SETLKW: 33, ACCESS: 34, CREATE: 35, INTERRUPT: 36, BMAP: 37, DESTROY: 38, IOCTL: 39, POLL: 40,
  NOTIFY_REPLY: 41, BATCH_FORGET: 42, FALLOCATE: 43, READDIRPLUS: 44, RENAME2: 45, LSEEK: 46,
  COPY_FILE_RANGE: 47, SETUPMAPPING: 48, REMOVEMAPPING: 49, SYNCFS: 50, TMPFILE: 51,
} as const;

/** Opcode number -> name, for logs. */
export const OP_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(Op).map(([k, v]) => [v, k.toLowerCase()]));

/** INIT flags (fuse_init_in/out.flags). */
export const Init = {
  ASYNC_READ: 1 << 0, POSIX_LOCKS: 1 << 1, ATOMIC_O_TRUNC: 1 << 3, EXPORT_SUPPORT: 1 << 4,
  BIG_WRITES: 1 << 5, DONT_MASK: 1 << 6, FLOCK_LOCKS: 1 << 10, AUTO_INVAL_DATA: 1 << 12,
  DO_READDIRPLUS: 1 << 13, READDIRPLUS_AUTO: 1 << 14, ASYNC_DIO: 1 << 15, WRITEBACK_CACHE: 1 << 16, NO_OPEN_SUPPORT: 1 << 17,
  PARALLEL_DIROPS: 1 << 18, HANDLE_KILLPRIV: 1 << 19, POSIX_ACL: 1 << 20, ABORT_ERROR: 1 << 21,
  MAX_PAGES: 1 << 22, CACHE_SYMLINKS: 1 << 23, NO_OPENDIR_SUPPORT: 1 << 24, EXPLICIT_INVAL_DATA: 1 << 25,
  HANDLE_KILLPRIV_V2: 1 << 28,
  INIT_EXT: 1 << 30,
} as const;

/** INIT flags of the second word (fuse_init_in/out.flags2, bits 32-63 of the flags). */
export const Init2 = {
  /** NOTIFY_INVAL_ENTRY may only expire an entry (FUSE_EXPIRE_ONLY), never d_invalidate it. */
  HAS_EXPIRE_ONLY: 1 << (35 - 32),
  /**
   * FUSE_PASSTHROUGH (7.40, Linux 6.9+): opens may be answered FOPEN_PASSTHROUGH with a backing id
   * (FUSE_DEV_IOC_BACKING_OPEN); the INIT reply then carries max_stack_depth.
   */
  PASSTHROUGH: 1 << (37 - 32),
} as const;

/** fuse_notify_inval_entry_out.flags: mark the entry stale instead of dropping it. */
export const EXPIRE_ONLY = 1;

/** Notification codes. PRUNE: 7.45, Linux 6.18+ (an older kernel answers the write EINVAL). */
export const Notify = { POLL: 1, INVAL_INODE: 2, INVAL_ENTRY: 3, STORE: 4, RETRIEVE: 5, DELETE: 6, RESEND: 7, PRUNE: 9 } as const;

/** fuse_setattr_in.valid bits. */
export const Fattr = {
  MODE: 1 << 0, UID: 1 << 1, GID: 1 << 2, SIZE: 1 << 3, ATIME: 1 << 4, MTIME: 1 << 5, FH: 1 << 6,
  ATIME_NOW: 1 << 7, MTIME_NOW: 1 << 8, LOCKOWNER: 1 << 9, CTIME: 1 << 10, KILL_SUIDGID: 1 << 11,
} as const;

export const GETATTR_FH = 1;
export const FSYNC_FDATASYNC = 1;
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
/** fuse_write_in.write_flags: the caller lacks CAP_FSETID, drop setuid/setgid (HANDLE_KILLPRIV_V2). */
export const WRITE_KILL_SUIDGID = 1 << 2;
/** fuse_open_in.open_flags: the same, for an open with O_TRUNC. */
export const OPEN_KILL_SUIDGID = 1 << 0;

export const IN_HEADER_SIZE = 40;
export const OUT_HEADER_SIZE = 16;
export const ATTR_SIZE = 88;
export const ENTRY_OUT_SIZE = 40 + ATTR_SIZE;
export const ATTR_OUT_SIZE = 16 + ATTR_SIZE;
export const OPEN_OUT_SIZE = 16;
/** fuse_open_out.open_flags. */
export const FOPEN_KEEP_CACHE = 1 << 1;
export const FOPEN_CACHE_DIR = 1 << 3;
/** The kernel serves read, write, splice and mmap of this open from the backing file named in backing_id. */
export const FOPEN_PASSTHROUGH = 1 << 7;
export const INIT_OUT_SIZE = 64;
export const STATFS_OUT_SIZE = 80;
const DIRENT_HEADER = 24;

/** fuse_in_header. */
export interface InHeader {
  readonly len: number;
  readonly opcode: number;
  readonly unique: bigint;
  readonly nodeid: number;
  readonly uid: number;
  readonly gid: number;
  readonly pid: number;
}

const u64 = (b: Buffer, at: number): number => b.readUInt32LE(at) + b.readUInt32LE(at + 4) * 0x1_0000_0000;

export function decodeInHeader(b: Buffer): InHeader {
  return {
    len: b.readUInt32LE(0), opcode: b.readUInt32LE(4), unique: b.readBigUInt64LE(8), nodeid: u64(b, 16),
    uid: b.readUInt32LE(24), gid: b.readUInt32LE(28), pid: b.readUInt32LE(32),
  };
}

/** Sequential reads of a request body: little-endian integers and NUL-terminated names. */
export class Reader {
  constructor(private readonly b: Buffer, private at: number, private readonly end: number) {}
  u32(): number { const v = this.b.readUInt32LE(this.at); this.at += 4; return v; }
  i64(): bigint { const v = this.b.readBigInt64LE(this.at); this.at += 8; return v; }
  /** A u64 that fits in a double (node ids, handles, offsets, counts). */
  u64(): number { const v = u64(this.b, this.at); this.at += 8; return v; }
  skip(n: number): this { this.at += n; return this; }
  /** A NUL-terminated string (file names are bytes; we read them as UTF-8, as the rest of worldfs does). */
  cstring(): string {
    let nul = this.b.indexOf(0, this.at);
    if (nul < 0 || nul > this.end) nul = this.end;
    const s = this.b.toString('utf8', this.at, nul);
    this.at = nul + 1;
    return s;
  }
  /** The next `n` bytes (a view, not a copy: valid until the request buffer is reused). */
  bytes(n: number): Buffer { const v = this.b.subarray(this.at, this.at + n); this.at += n; return v; }
  rest(): Buffer { return this.b.subarray(this.at, this.end); }
  get offset(): number { return this.at; }
}

/**
 * fuse_out_header in front of `bodyLen` bytes; the caller fills the body from offset 16. `zeroed`
 * false leaves the body uninitialised, for a caller that writes every byte it sends (read data).
 */
export function replyBuffer(unique: bigint, bodyLen: number, zeroed = true): Buffer {
  const b = zeroed ? Buffer.alloc(OUT_HEADER_SIZE + bodyLen) : Buffer.allocUnsafe(OUT_HEADER_SIZE + bodyLen);
  b.writeInt32LE(0, 4);
  b.writeUInt32LE(OUT_HEADER_SIZE + bodyLen, 0);
  b.writeBigUInt64LE(unique, 8);
  return b;
}

/**
 * A reply of up to `bodyLen` bytes built in `scratch` (reused from request to request: a fresh
 * 128 KiB buffer per read costs more than the read), or in a new buffer if it does not fit.
 * Valid until the next reply is built in `scratch`.
 */
export function scratchReply(scratch: Buffer, unique: bigint, bodyLen: number): Buffer {
  if (OUT_HEADER_SIZE + bodyLen > scratch.length) return replyBuffer(unique, bodyLen, false);
  const b = scratch.subarray(0, OUT_HEADER_SIZE + bodyLen);
  b.writeUInt32LE(OUT_HEADER_SIZE + bodyLen, 0);
  b.writeInt32LE(0, 4);
  b.writeBigUInt64LE(unique, 8);
  return b;
}

/** Fix up the header of a reply buffer whose final length is known only after filling it. */
export function setReplyLength(b: Buffer, len: number): Buffer {
  b.writeUInt32LE(len, 0);
  return b.subarray(0, len);
}

export function encodeError(unique: bigint, negErrno: number): Buffer {
  const b = Buffer.alloc(OUT_HEADER_SIZE);
  b.writeUInt32LE(OUT_HEADER_SIZE, 0);
  b.writeInt32LE(negErrno, 4);
  b.writeBigUInt64LE(unique, 8);
  return b;
}

/** A notification: unique 0, the notify code where a reply carries its error. */
export function notifyBuffer(code: number, bodyLen: number): Buffer {
  const b = Buffer.alloc(OUT_HEADER_SIZE + bodyLen);
  b.writeUInt32LE(OUT_HEADER_SIZE + bodyLen, 0);
  b.writeInt32LE(code, 4);
  return b;
}

const NS = 1_000_000_000n;
/** The largest |ns| writeTime splits in doubles: 2^62. */
const NS_FAST_LIMIT = 1n << 62n;
/** `ns` as two 32-bit halves without a BigInt operation (storing into a BigInt64Array allocates nothing). */
const TIME = new BigInt64Array(1);
const TIME_HALVES = new Int32Array(TIME.buffer);
const LITTLE_ENDIAN = endianness() === 'LE';

/**
 * A time in ns since the epoch as fuse_attr has it: seconds (s64, floored) at `secAt`, nanoseconds
 * (u32, 0 to 999,999,999) at `nsecAt`. Every attribute reply writes three, so the split is done in
 * doubles, not BigInt (whose every operation allocates; so does Buffer.writeBigInt64LE: 0.5 KB of
 * garbage an entry of a READDIRPLUS): `ns` is read as two 32-bit halves and divided as
 * (ns >> 9) / 1,953,125 (1e9 = 2^9 · 1,953,125), exact while ns >> 9 stays within 2^53 (2^62 ns:
 * until the year 2116, and as far before 1970); beyond, the BigInt way.
 */
export function writeTime(b: Buffer, secAt: number, nsecAt: number, ns: bigint): void {
  // Beyond ±2^62 ns (2116, 1823) the BigInt way: comparing allocates nothing, and storing a value
  // past 64 bits (2262) into the BigInt64Array would wrap it.
  if (!LITTLE_ENDIAN || ns >= NS_FAST_LIMIT || ns <= -NS_FAST_LIMIT) return writeTimeBig(b, secAt, nsecAt, ns);
  TIME[0] = ns;
  const lo = TIME_HALVES[0]! >>> 0;
  const hi = TIME_HALVES[1]!;
  const a = hi * 0x80_0000 + (lo >>> 9); // ns >> 9 (arithmetic), exact: |hi| < 2^31, 2^23 * 2^31 = 2^54
  if (Math.abs(a) > Number.MAX_SAFE_INTEGER) return writeTimeBig(b, secAt, nsecAt, ns);
  const sec = Math.floor(a / 1_953_125);
  const nsec = (a - sec * 1_953_125) * 512 + (lo & 511);
  b.writeUInt32LE(sec >>> 0, secAt); // the low 32 bits (two's complement for a negative one)
  b.writeInt32LE(Math.floor(sec / 0x1_0000_0000), secAt + 4);
  b.writeUInt32LE(nsec, nsecAt);
}

function writeTimeBig(b: Buffer, secAt: number, nsecAt: number, ns: bigint): void {
  let sec = ns / NS;
  let nsec = ns % NS;
  if (nsec < 0n) { sec -= 1n; nsec += NS; }
  b.writeBigInt64LE(sec, secAt);
  b.writeUInt32LE(Number(nsec), nsecAt);
}

function writeU64(b: Buffer, at: number, n: number): void {
  b.writeUInt32LE(n % 0x1_0000_0000 >>> 0, at);
  b.writeUInt32LE(Math.floor(n / 0x1_0000_0000) >>> 0, at + 4);
}

/** struct fuse_attr at `at`; `ino` overrides the attribute's inode number when given. */
export function writeAttr(b: Buffer, at: number, a: Attr, ino = a.ino): void {
  writeU64(b, at, ino);
  writeU64(b, at + 8, a.size);
  writeU64(b, at + 16, a.blocks);
  writeTime(b, at + 24, at + 48, a.atimeNs);
  writeTime(b, at + 32, at + 52, a.mtimeNs);
  writeTime(b, at + 40, at + 56, a.ctimeNs);
  b.writeUInt32LE(a.mode >>> 0, at + 60);
  b.writeUInt32LE(a.nlink >>> 0, at + 64);
  b.writeUInt32LE(a.uid >>> 0, at + 68);
  b.writeUInt32LE(a.gid >>> 0, at + 72);
  b.writeUInt32LE(Number(BigInt(a.rdev) & 0xffffffffn), at + 76);
  b.writeUInt32LE(a.blksize >>> 0, at + 80);
  b.writeUInt32LE(0, at + 84);
}

/** A cache lifetime in seconds as (seconds, nanoseconds). */
function validity(seconds: number): [number, number] {
  const s = Math.floor(seconds);
  return [s, Math.round((seconds - s) * 1e9)];
}

export interface Entry {
  /** 0 for a negative entry (the name does not exist, cache that for `entryValid`). */
  readonly nodeid: number;
  readonly generation: number;
  readonly entryValid: number;
  readonly attrValid: number;
  readonly attr?: Attr;
  /** The inode number to report (the attribute's own when absent). */
  readonly ino?: number;
}

/** struct fuse_entry_out at `at`. */
export function writeEntry(b: Buffer, at: number, e: Entry): void {
  writeU64(b, at, e.nodeid);
  writeU64(b, at + 8, e.generation);
  const [es, en] = validity(e.entryValid);
  const [as, an] = validity(e.attrValid);
  writeU64(b, at + 16, es);
  writeU64(b, at + 24, as);
  b.writeUInt32LE(en, at + 32);
  b.writeUInt32LE(an, at + 36);
  if (e.attr) writeAttr(b, at + 40, e.attr, e.ino);
}

/** struct fuse_attr_out at `at`. */
export function writeAttrOut(b: Buffer, at: number, attrValid: number, a: Attr, ino?: number): void {
  const [s, n] = validity(attrValid);
  writeU64(b, at, s);
  b.writeUInt32LE(n, at + 8);
  writeAttr(b, at + 16, a, ino);
}

/** struct fuse_open_out at `at`; `backingId` (7.40's backing_id, was padding) only with FOPEN_PASSTHROUGH. */
export function writeOpenOut(b: Buffer, at: number, fh: number, openFlags: number, backingId = 0): void {
  writeU64(b, at, fh);
  b.writeUInt32LE(openFlags, at + 8);
  b.writeInt32LE(backingId, at + 12);
}

export function writeStatfs(b: Buffer, at: number, s: StatFs): void {
  writeU64(b, at, s.blocks);
  writeU64(b, at + 8, s.bfree);
  writeU64(b, at + 16, s.bavail);
  writeU64(b, at + 24, s.files);
  writeU64(b, at + 32, s.ffree);
  b.writeUInt32LE(s.bsize, at + 40);
  b.writeUInt32LE(s.namemax, at + 44);
  b.writeUInt32LE(s.frsize, at + 48);
}

/** fuse_init_in. */
export interface InitIn {
  readonly major: number;
  readonly minor: number;
  readonly maxReadahead: number;
  /** flags | flags2 << 32 (flags2 only when the kernel sets INIT_EXT). */
  readonly flags: bigint;
}

export function decodeInitIn(r: Reader): InitIn {
  const major = r.u32();
  const minor = r.u32();
  const maxReadahead = r.u32();
  const flags = r.u32();
  const flags2 = flags & Init.INIT_EXT ? r.u32() : 0;
  return { major, minor, maxReadahead, flags: BigInt(flags >>> 0) | (BigInt(flags2 >>> 0) << 32n) };
}

export interface InitOut {
  readonly minor: number;
  readonly maxReadahead: number;
  readonly flags: number;
  /** The second flags word; sent only when `flags` has INIT_EXT. */
  readonly flags2?: number;
  readonly maxBackground: number;
  readonly congestionThreshold: number;
  readonly maxWrite: number;
  readonly timeGran: number;
  readonly maxPages: number;
  /**
   * 7.40's max_stack_depth, read with FUSE_PASSTHROUGH: how deep the mount counts as stacked (1: a
   * backing file must be on an unstacked filesystem, and overlayfs may still stack on the mount).
   */
  readonly maxStackDepth?: number;
}

export function writeInitOut(b: Buffer, at: number, o: InitOut): void {
  b.writeUInt32LE(KERNEL_VERSION, at);
  b.writeUInt32LE(o.minor, at + 4);
  b.writeUInt32LE(o.maxReadahead, at + 8);
  b.writeUInt32LE(o.flags >>> 0, at + 12);
  b.writeUInt16LE(o.maxBackground, at + 16);
  b.writeUInt16LE(o.congestionThreshold, at + 18);
  b.writeUInt32LE(o.maxWrite, at + 20);
  b.writeUInt32LE(o.timeGran, at + 24);
  b.writeUInt16LE(o.maxPages, at + 28);
  b.writeUInt32LE((o.flags2 ?? 0) >>> 0, at + 32);
  b.writeUInt32LE(o.maxStackDepth ?? 0, at + 36);
}

/** NOTIFY_INVAL_INODE: drop the cached attributes of node `nodeid` and its pages from `off` (-1: none). */
export function encodeInvalInode(nodeid: number, off = 0, len = 0): Buffer {
  const b = notifyBuffer(Notify.INVAL_INODE, 24);
  writeU64(b, OUT_HEADER_SIZE, nodeid);
  b.writeBigInt64LE(BigInt(off), OUT_HEADER_SIZE + 8);
  b.writeBigInt64LE(BigInt(len), OUT_HEADER_SIZE + 16);
  return b;
}

/** NOTIFY_INVAL_ENTRY: the name `name` in directory node `parent` must be looked up again. */
export function encodeInvalEntry(parent: number, name: string, flags = 0): Buffer {
  const n = Buffer.from(name);
  const b = notifyBuffer(Notify.INVAL_ENTRY, 16 + n.length + 1);
  writeU64(b, OUT_HEADER_SIZE, parent);
  b.writeUInt32LE(n.length, OUT_HEADER_SIZE + 8);
  b.writeUInt32LE(flags, OUT_HEADER_SIZE + 12);
  n.copy(b, OUT_HEADER_SIZE + 16);
  return b;
}

/**
 * NOTIFY_PRUNE: the kernel drops each of these nodes that nothing uses (d_prune_aliases: only
 * dentries with no reference, so no open file, working directory, mount or cached child), and
 * FORGETs it. fuse_notify_prune_out is { u32 count, u32 padding, u64 spare }, then the node ids.
 */
export function encodePrune(ids: readonly number[]): Buffer {
  const b = notifyBuffer(Notify.PRUNE, 16 + 8 * ids.length);
  b.writeUInt32LE(ids.length, OUT_HEADER_SIZE);
  ids.forEach((id, i) => writeU64(b, OUT_HEADER_SIZE + 16 + 8 * i, id));
  return b;
}

/** DT_* of a mode, for dirents (DT_UNKNOWN when not known). */
export function direntType(mode: number | undefined): number {
  return mode === undefined ? 0 : (mode >>> 12) & 0o17;
}

const align8 = (n: number) => (n + 7) & ~7;

/** Bytes a fuse_dirent for `name` takes. */
export function direntSize(nameLen: number): number {
  return align8(DIRENT_HEADER + nameLen);
}

/** Bytes a fuse_direntplus for `name` takes. */
export function direntPlusSize(nameLen: number): number {
  return align8(ENTRY_OUT_SIZE + DIRENT_HEADER + nameLen);
}

/** A fuse_dirent at `at`; returns the offset after it (padding zeroed). */
export function writeDirent(b: Buffer, at: number, ino: number, off: number, type: number, name: Buffer): number {
  writeU64(b, at, ino);
  writeU64(b, at + 8, off);
  b.writeUInt32LE(name.length, at + 16);
  b.writeUInt32LE(type, at + 20);
  name.copy(b, at + DIRENT_HEADER);
  const end = at + direntSize(name.length);
  b.fill(0, at + DIRENT_HEADER + name.length, end);
  return end;
}

/** A fuse_direntplus at `at`; returns the offset after it. */
export function writeDirentPlus(b: Buffer, at: number, e: Entry, off: number, type: number, name: Buffer): number {
  b.fill(0, at, at + ENTRY_OUT_SIZE);
  writeEntry(b, at, e);
  const ino = e.attr ? (e.ino ?? e.attr.ino) : 0xffffffff;
  writeDirent(b, at + ENTRY_OUT_SIZE, ino, off, type, name);
  return at + direntPlusSize(name.length);
}
