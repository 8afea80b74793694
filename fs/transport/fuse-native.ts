// The fuse-native transport: maps libfuse 2.9 high-level callbacks onto WorldFs.
// fuse-native quirks handled here (see fs/README.md): fgetattr ignores its handle, getxattr and
// listxattr never answer ERANGE, unmount shells out to a fusermount that is not installed, only
// known mount options are passed (we add use_ino, timeouts, big_writes, subtype, suid/dev), and
// fallocate exists only as our install step adds it (scripts/link-libfuse.mjs).
import { createRequire } from 'node:module';
import { debuglog } from 'node:util';
import { toViewPath, type ViewPath } from '../../src/core/paths.js';
import { cacheBudget } from '../../src/core/lower-cache.js';
import { toErrno, ERANGE } from '../errno.js';
import { unmount as unmountPath } from '../unmount.js';
import type { Attr, TimeSpec, WorldFs } from '../worldfs.js';
import type { Transport, TransportOptions } from './transport.js';

const trace = debuglog('worldos:fs');
const require = createRequire(import.meta.url);

type Cb = (...args: unknown[]) => void;
type Signal = (...args: unknown[]) => void;

interface FuseClass {
  new (mnt: string, ops: Record<string, unknown>, opts: Record<string, unknown>): FuseInstance;
  unmount(mnt: string, cb: (err: Error | null) => void): void;
  prototype: Record<string, unknown>;
}
interface FuseInstance {
  mount(cb: (err: Error | null) => void): void;
  unmount(cb: (err: Error | null) => void): void;
}

/**
 * Decode a time our patched fuse-native sends (scripts/link-libfuse.mjs) as two uint32 halves of
 * (signed) nanoseconds since the epoch; UTIME_NOW / UTIME_OMIT are 0xffffffff:0 / 0xfffffffe:0.
 */
export function decodeTime(low: number, high: number): TimeSpec {
  if (high === 0xffffffff && low === 0) return 'now';
  if (high === 0xfffffffe && low === 0) return 'omit';
  return BigInt.asIntN(64, (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0)); // before 1970: negative
}

function loadFuse(): FuseClass {
  try {
    return require('fuse-native') as FuseClass;
  } catch (e) {
    throw new Error(
      `fuse-native could not be loaded (${(e as Error).message}). Run worldfs through bin/worldfs, which puts ` +
        `node_modules/fuse-native/build/Release on LD_LIBRARY_PATH, or re-run npm ci.`,
    );
  }
}

export class FuseNativeTransport implements Transport {
  private fuse: FuseInstance | undefined;
  constructor(private readonly fs: WorldFs, private readonly opts: TransportOptions) {}

  mount(): Promise<void> {
    const Fuse = loadFuse();
    // fuse-native's own unmount runs `fusermount -uz`, which this machine may lack.
    Fuse.unmount = (mnt, cb) => { unmountPath(mnt, true).then(() => cb(null), (e: Error) => cb(e)); };
    const extra = this.extraOptions();
    const Sub = class extends (Fuse as unknown as new (...a: unknown[]) => Record<string, unknown>) {
      _fuseOptions(): string {
        const base = (Fuse.prototype._fuseOptions as () => string).call(this);
        return base ? `${base},${extra}` : `-o${extra}`;
      }
    } as unknown as FuseClass;
    patchHandlers(Sub.prototype, this.fs);
    const fuse = new Sub(this.opts.mountpoint, this.operations(), {
      allowOther: this.opts.allowOther,
      defaultPermissions: true,
      debug: this.opts.debug,
      timeout: false, // a large copy-up must not be cut off after fuse-native's 15 s default
    });
    this.fuse = fuse;
    return new Promise((resolve, reject) => fuse.mount((err) => (err ? reject(err) : resolve())));
  }

  unmount(): Promise<void> {
    const fuse = this.fuse;
    if (!fuse) return Promise.resolve();
    this.fuse = undefined;
    return new Promise((resolve, reject) => fuse.unmount((err) => (err ? reject(err) : resolve())));
  }

  private extraOptions(): string {
    // The kernel gets half of timeout=, the daemon's lower cache the other half (lower-cache.ts).
    const t = cacheBudget('reval', this.opts.cacheTimeout).kernelSeconds;
    const o = [
      'use_ino', 'big_writes', 'max_write=131072', 'subtype=worldfs', `fsname=${this.opts.fsname.replace(/[,\\]/g, '_')}`,
      // Attributes are not cached: libfuse 2.9 cannot invalidate them, and a copy-up (link to a
      // lower file, say) changes an object under a name the kernel already knows. A read-only
      // mount makes no copy-up: its attributes change only with the layers, as its entries do.
      `entry_timeout=${t}`, `attr_timeout=${this.opts.kernelFlags.includes('ro') ? t : 0}`, `negative_timeout=${t}`,
      ...this.opts.kernelFlags,
    ];
    return o.join(',');
  }

  private operations(): Record<string, unknown> {
    const fs = this.fs;
    const op = <T>(name: string, path: string, fn: () => T, cb: Cb, reply: (v: T) => unknown[] = (v) => [0, v]) => {
      const t0 = trace.enabled ? performance.now() : 0;
      let res: unknown[];
      try {
        res = reply(fn());
      } catch (e) {
        res = [toErrno(e, name, path)];
      }
      if (trace.enabled) trace('%s %s -> %s (%sms)', name, path, res[0], (performance.now() - t0).toFixed(3));
      cb(...res);
    };
    const vp = (p: string): ViewPath => toViewPath(p);
    const none = () => [0];
    return {
      init: (cb: Cb) => cb(0),
      getattr: (p: string, cb: Cb) => op('getattr', p, () => fs.getattr(vp(p)), cb, (a) => [0, statArray(a)]),
      access: (p: string, mode: number, cb: Cb) => op('access', p, () => fs.access(vp(p), mode), cb, none),
      statfs: (p: string, cb: Cb) => op('statfs', p, () => fs.statfs(), cb),
      readdir: (p: string, cb: Cb) => op('readdir', p, () => fs.readdir(vp(p)), cb),
      mkdir: (p: string, mode: number, cb: Cb) => op('mkdir', p, () => fs.mkdir(vp(p), mode), cb, none),
      rmdir: (p: string, cb: Cb) => op('rmdir', p, () => fs.rmdir(vp(p)), cb, none),
      unlink: (p: string, cb: Cb) => op('unlink', p, () => fs.unlink(vp(p)), cb, none),
      rename: (p: string, d: string, cb: Cb) => op('rename', p, () => fs.rename(vp(p), vp(d)), cb, none),
      link: (p: string, d: string, cb: Cb) => op('link', p, () => fs.link(vp(p), vp(d)), cb, none),
      symlink: (target: string, p: string, cb: Cb) => op('symlink', p, () => fs.symlink(target, vp(p)), cb, none),
      readlink: (p: string, cb: Cb) => op('readlink', p, () => fs.readlink(vp(p)), cb),
      mknod: (p: string, mode: number, dev: number, cb: Cb) => op('mknod', p, () => fs.mknod(vp(p), mode, dev), cb, none),
      chmod: (p: string, mode: number, cb: Cb) => op('chmod', p, () => fs.chmod(vp(p), mode), cb, none),
      chown: (p: string, uid: number, gid: number, cb: Cb) => op('chown', p, () => fs.chown(vp(p), uid, gid), cb, none),
      utimens: (p: string, a: TimeSpec, m: TimeSpec, cb: Cb) => op('utimens', p, () => fs.utimens(vp(p), a, m), cb, none),
      truncate: (p: string, size: number, cb: Cb) => op('truncate', p, () => fs.truncate(vp(p), size), cb, none),
      ftruncate: (p: string, h: number, size: number, cb: Cb) => op('ftruncate', p, () => fs.ftruncate(h, size), cb, none),
      fallocate: (p: string, h: number, mode: number, offset: bigint, length: bigint, cb: Cb) =>
        op('fallocate', p, () => fs.fallocate(h, mode, offset, length), cb, none),
      open: (p: string, flags: number, cb: Cb) => op('open', p, () => fs.open(vp(p), flags), cb),
      create: (p: string, mode: number, cb: Cb) => op('create', p, () => fs.create(vp(p), mode), cb),
      read: (p: string, h: number, buf: Buffer, len: number, pos: number, cb: Cb) =>
        op('read', p, () => fs.read(h, buf, len, pos), cb, (n) => [n]),
      write: (p: string, h: number, buf: Buffer, len: number, pos: number, cb: Cb) =>
        op('write', p, () => fs.write(h, buf, len, pos), cb, (n) => [n]),
      flush: (p: string, _h: number, cb: Cb) => cb(0),
      fsync: (p: string, datasync: number, h: number, cb: Cb) => op('fsync', p, () => fs.fsync(h, datasync !== 0), cb, none),
      release: (p: string, h: number, cb: Cb) => op('release', p, () => fs.release(h), cb, none),
      getxattr: (p: string, name: string, _pos: number, cb: Cb) => op('getxattr', p, () => fs.getxattr(vp(p), name), cb),
      listxattr: (p: string, cb: Cb) => op('listxattr', p, () => fs.listxattr(vp(p)), cb),
      setxattr: (p: string, name: string, value: Buffer, _pos: number, flags: number, cb: Cb) =>
        op('setxattr', p, () => fs.setxattr(vp(p), name, Buffer.from(value), flags), cb, none),
      removexattr: (p: string, name: string, cb: Cb) => op('removexattr', p, () => fs.removexattr(vp(p), name), cb, none),
    };
  }
}

/** Replace fuse-native handlers that lose information (handle, buffer size, ns times) with correct ones. */
function patchHandlers(proto: Record<string, unknown>, fs: WorldFs): void {
  // getattr answers our own stat array (nanosecond times), not fuse-native's millisecond one.
  proto._op_getattr = function (this: { ops: Record<string, Cb> }, signal: Signal, path: string) {
    this.ops.getattr!(path, (err: unknown, arr: unknown) => (err ? signal(err, statArray()) : signal(0, arr)));
  };
  proto._op_utimens = function (this: { ops: Record<string, Cb> }, signal: Signal, path: string, aLow: number, aHigh: number, mLow: number, mHigh: number) {
    this.ops.utimens!(path, decodeTime(aLow, aHigh), decodeTime(mLow, mHigh), (err: unknown) => signal(err));
  };
  proto._op_fgetattr = function (signal: Signal, path: string, handle: number) {
    try {
      const attr = fs.fgetattr(handle) ?? fs.getattr(toViewPath(path));
      return signal(0, statArray(attr));
    } catch (e) {
      return signal(toErrno(e, 'fgetattr', path), statArray());
    }
  };
  // Offsets arrive as two uint32 halves (our patch); a double would round those above 2^53.
  proto._op_fallocate = function (this: { ops: Record<string, Cb> }, signal: Signal, path: string, handle: number, mode: number,
    offLow: number, offHigh: number, lenLow: number, lenHigh: number) {
    const big = (low: number, high: number) => (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
    this.ops.fallocate!(path, handle, mode, big(offLow, offHigh), big(lenLow, lenHigh), (err: unknown) => signal(err));
  };
  proto._op_getxattr = function (this: { ops: Record<string, Cb> }, signal: Signal, path: string, name: string, valueBuf: Buffer, position: number) {
    this.ops.getxattr!(path, name, position, (err: unknown, value: unknown) => {
      if (err) return signal(err, valueBuf.buffer);
      const v = value as Buffer;
      if (valueBuf.length > 0 && v.length > valueBuf.length) return signal(ERANGE, valueBuf.buffer);
      v.copy(valueBuf);
      return signal(v.length, valueBuf.buffer);
    });
  };
  proto._op_listxattr = function (this: { ops: Record<string, Cb> }, signal: Signal, path: string, listBuf: Buffer) {
    this.ops.listxattr!(path, (err: unknown, list: unknown) => {
      if (err) return signal(err, listBuf.buffer);
      const names = list as string[];
      const size = names.reduce((n, s) => n + Buffer.byteLength(s) + 1, 0);
      if (listBuf.length === 0) return signal(size, listBuf.buffer);
      if (size > listBuf.length) return signal(ERANGE, listBuf.buffer);
      let ptr = 0;
      for (const n of names) {
        ptr += listBuf.write(n, ptr);
        listBuf[ptr++] = 0;
      }
      return signal(ptr, listBuf.buffer);
    });
  };
}

/** The Uint32Array layout fuse-native's native side reads a struct stat from (its getStatArray). */
function statArray(a?: Attr): Uint32Array {
  const ints = new Uint32Array(18);
  if (!a) return ints;
  const put64 = (i: number, n: number) => {
    ints[i] = n % 4294967296;
    ints[i + 1] = Math.floor(n / 4294967296);
  };
  ints[0] = a.mode; ints[1] = a.uid; ints[2] = a.gid; put64(3, a.size); ints[5] = a.dev; ints[6] = a.nlink;
  ints[7] = a.ino; ints[8] = a.rdev; ints[9] = a.blksize; put64(10, a.blocks);
  const putNs = (i: number, n: bigint) => {
    ints[i] = Number(n & 0xffffffffn);
    ints[i + 1] = Number((n >> 32n) & 0xffffffffn);
  };
  putNs(12, a.atimeNs); putNs(14, a.mtimeNs); putNs(16, a.ctimeNs);
  return ints;
}
