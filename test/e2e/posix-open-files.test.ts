// Open files through a worldfs view once their names are gone (fstat, fchmod, fchown, futimens,
// ftruncate after unlink or rename-over: apt-get does this), fallocate in each mode, and a file
// changed while open for writing (by name and through its descriptor; a write's capability kill). Every row
// runs on worldfs with aufs and overlay whiteouts and on a plain directory (ext4: the oracle).
import {
  chmodSync, chownSync, closeSync, constants, fchmodSync, mkdirSync, readdirSync, rmdirSync, fchownSync, fstatSync, futimesSync, ftruncateSync, openSync, readFileSync, readSync,
  renameSync, statSync, unlinkSync, utimesSync, writeFileSync, writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { expect } from 'vitest';
import { getXattr, setXattr } from '../../src/host/xattr.js';
import { ROOT } from '../helpers/worldfs.js';
import { file, type Tree } from './support/tree.js';
import { errno, runCases, type Case, type View } from './support/views.js';

const require = createRequire(import.meta.url);
/** fallocate(2) from the project's syscall addon (Node has none); errors carry an errno `code`. */
const native = require(join(ROOT, 'dist', 'syscalls.node')) as {
  fallocate(fd: number, mode: number, offset: bigint, len: bigint): void;
};
const KEEP_SIZE = 0x01;
const PUNCH_HOLE = 0x02;
const COLLAPSE_RANGE = 0x08;
const ZERO_RANGE = 0x10;
const INSERT_RANGE = 0x20;

const T2001 = 978307200; // 2001-01-01T00:00:00Z
const KIB16 = Buffer.alloc(16384, 'x');

const L0: Tree = {
  'low.txt': file('lower data', { mode: 0o644, uid: 0, gid: 0 }),
  'other.txt': 'the other file',
  'big.bin': file(KIB16.toString(), { mode: 0o644 }),
  ldir: { inner: 'inside' },
};
const LAYERS = [L0];

/** The whole content of an open file, from offset 0. */
function readFd(fd: number): string {
  const buf = Buffer.alloc(1 << 16);
  const n = readSync(fd, buf, 0, buf.length, 0);
  return buf.subarray(0, n).toString();
}

/** fallocate on `rel` opened read-write: 'OK' or the errno name. */
function falloc(v: View, rel: string, mode: number, offset: bigint, len: bigint): string {
  const fd = openSync(v.p(rel), constants.O_RDWR);
  try {
    return errno(() => native.fallocate(fd, mode, offset, len));
  } finally {
    closeSync(fd);
  }
}

/** What fallocate gives where ext4 succeeds: the kernel's FUSE refuses COLLAPSE_RANGE and INSERT_RANGE itself. */
function expected(v: View, mode: number): string {
  return v.variant.union && mode & (COLLAPSE_RANGE | INSERT_RANGE) ? 'EOPNOTSUPP' : 'OK';
}

/**
 * libfuse 2.9's high-level API (transport=native) forgets a removed directory's path before any
 * request about it reaches worldfs, and sends directories no handle: there fstat of one is ENOENT.
 */
const NO_REMOVED_DIRS = (v: View) => v.variant.union && process.env.WORLDFS_TRANSPORT === 'native';

/**
 * fstat, readdir and fchmod of a directory open as `fd` whose name is gone (rmdir): ext4 answers with
 * its attributes, nlink 0, the same st_ino, and an empty listing; nothing can be created in it.
 */
function removedDirWorks(v: View, rel: string, fd: number, ino: number): void {
  if (NO_REMOVED_DIRS(v)) {
    expect(errno(() => fstatSync(fd))).toBe('ENOENT');
    expect(errno(() => statSync(v.p(rel)))).toBe('ENOENT');
    return;
  }
  let st = fstatSync(fd);
  expect([st.isDirectory(), st.nlink, st.ino]).toEqual([true, 0, ino]);
  expect(readdirSync(`/proc/self/fd/${fd}`)).toEqual([]);
  expect(errno(() => openSync(`/proc/self/fd/${fd}/x`, constants.O_CREAT | constants.O_WRONLY, 0o644))).toBe('ENOENT');
  fchmodSync(fd, 0o700);
  st = fstatSync(fd);
  expect([st.mode & 0o7777, st.nlink, st.ino]).toEqual([0o700, 0, ino]);
  expect(errno(() => statSync(v.p(rel)))).toBe('ENOENT');
}

const cases: Case[] = [
  {
    title: 'a new directory open after rmdir: fstat reads nlink 0 and the same st_ino, its listing is empty, fchmod applies',
    layers: LAYERS,
    run(v) {
      mkdirSync(v.p('newdir'), 0o755);
      const ino = statSync(v.p('newdir')).ino;
      const fd = openSync(v.p('newdir'), constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        rmdirSync(v.p('newdir'));
        removedDirWorks(v, 'newdir', fd, ino);
      } finally {
        closeSync(fd);
      }
    },
  },
  {
    title: 'a lower directory open after its contents and itself are removed: fstat reads nlink 0 and the same st_ino, fchmod applies',
    layers: LAYERS,
    run(v) {
      const ino = statSync(v.p('ldir')).ino;
      const fd = openSync(v.p('ldir'), constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        unlinkSync(v.p('ldir/inner'));
        rmdirSync(v.p('ldir'));
        removedDirWorks(v, 'ldir', fd, ino);
      } finally {
        closeSync(fd);
      }
      expect(readFileSync(v.p('other.txt'), 'utf8')).toBe('the other file');
    },
  },
  {
    title: 'a new file keeps working after unlink: fstat reads nlink 0 and the same st_ino; fchmod, fchown, futimens and ftruncate apply',
    layers: LAYERS,
    run(v) {
      const fd = openSync(v.p('tmp'), constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, 0o644);
      try {
        writeSync(fd, 'temporary data');
        const ino = statSync(v.p('tmp')).ino;
        unlinkSync(v.p('tmp'));
        let st = fstatSync(fd);
        expect([st.nlink, st.size, st.ino, st.isFile()]).toEqual([0, 14, ino, true]);
        fchmodSync(fd, 0o600);
        fchownSync(fd, 1234, 5678);
        futimesSync(fd, T2001, T2001 + 1);
        ftruncateSync(fd, 9);
        st = fstatSync(fd);
        expect([st.mode & 0o7777, st.uid, st.gid, st.atimeMs, st.mtimeMs, st.size, st.nlink, st.ino]).toEqual(
          [0o600, 1234, 5678, T2001 * 1000, st.mtimeMs, 9, 0, ino]);
        expect(readFd(fd)).toBe('temporary');
        futimesSync(fd, T2001, T2001 + 1);
        expect(fstatSync(fd).mtimeMs).toBe((T2001 + 1) * 1000);
        fchownSync(fd, -1, 42); // -1: that id stays
        fchownSync(fd, 77, -1);
        st = fstatSync(fd);
        expect([st.uid, st.gid]).toEqual([77, 42]);
      } finally {
        closeSync(fd);
      }
      expect(errno(() => statSync(v.p('tmp')))).toBe('ENOENT');
    },
  },
  {
    title: 'a lower file opened read-only keeps working after unlink: nlink 0, same st_ino, fchmod/fchown/futimens apply, ftruncate is EINVAL',
    layers: LAYERS,
    run(v) {
      const ino = statSync(v.p('low.txt')).ino;
      const fd = openSync(v.p('low.txt'), constants.O_RDONLY);
      try {
        unlinkSync(v.p('low.txt'));
        let st = fstatSync(fd);
        expect([st.nlink, st.size, st.ino, st.mode & 0o7777]).toEqual([0, 10, ino, 0o644]);
        fchmodSync(fd, 0o640);
        fchownSync(fd, 7, 8);
        futimesSync(fd, T2001, T2001);
        expect(errno(() => ftruncateSync(fd, 1))).toBe('EINVAL');
        st = fstatSync(fd);
        expect([st.nlink, st.size, st.ino, st.mode & 0o7777, st.uid, st.gid, st.mtimeMs]).toEqual([0, 10, ino, 0o640, 7, 8, T2001 * 1000]);
        expect(readFd(fd)).toBe('lower data');
      } finally {
        closeSync(fd);
      }
      expect(errno(() => statSync(v.p('low.txt')))).toBe('ENOENT');
      expect(readFileSync(v.p('other.txt'), 'utf8')).toBe('the other file');
    },
  },
  {
    title: 'a lower file opened for writing keeps working after unlink: writes, ftruncate and fchmod apply, fstat reads nlink 0 and the same st_ino',
    layers: LAYERS,
    run(v) {
      const ino = statSync(v.p('low.txt')).ino;
      const fd = openSync(v.p('low.txt'), constants.O_RDWR);
      try {
        unlinkSync(v.p('low.txt'));
        writeSync(fd, 'LOWER', 0, 'utf8');
        ftruncateSync(fd, 8);
        fchmodSync(fd, 0o600);
        const st = fstatSync(fd);
        expect([st.nlink, st.size, st.ino, st.mode & 0o7777]).toEqual([0, 8, ino, 0o600]);
        expect(readFd(fd)).toBe('LOWER da');
      } finally {
        closeSync(fd);
      }
      expect(errno(() => statSync(v.p('low.txt')))).toBe('ENOENT');
    },
  },
  {
    title: 'a lower file whose mode changed in the view (metacopy) keeps that mode after unlink, and fchmod changes its own copy',
    layers: LAYERS,
    run(v) {
      chmodSync(v.p('low.txt'), 0o604);
      const ino = statSync(v.p('low.txt')).ino;
      const fd = openSync(v.p('low.txt'), constants.O_RDONLY);
      try {
        unlinkSync(v.p('low.txt'));
        let st = fstatSync(fd);
        expect([st.nlink, st.size, st.ino, st.mode & 0o7777]).toEqual([0, 10, ino, 0o604]);
        fchmodSync(fd, 0o400);
        st = fstatSync(fd);
        expect([st.nlink, st.size, st.ino, st.mode & 0o7777]).toEqual([0, 10, ino, 0o400]);
        expect(readFd(fd)).toBe('lower data');
      } finally {
        closeSync(fd);
      }
    },
  },
  {
    title: 'a file renamed over while open keeps its own data and st_ino, reads nlink 0, and fchmod changes it and not the new file',
    layers: LAYERS,
    run(v) {
      const ino = statSync(v.p('low.txt')).ino;
      const ro = openSync(v.p('low.txt'), constants.O_RDONLY);
      writeFileSync(v.p('new.txt'), 'fresh');
      const rw = openSync(v.p('new.txt'), constants.O_RDWR);
      const newIno = statSync(v.p('new.txt')).ino;
      try {
        renameSync(v.p('other.txt'), v.p('low.txt'));
        renameSync(v.p('low.txt'), v.p('new.txt'));
        let st = fstatSync(ro);
        expect([st.nlink, st.size, st.ino]).toEqual([0, 10, ino]);
        fchmodSync(ro, 0o600);
        expect(fstatSync(ro).mode & 0o7777).toBe(0o600);
        expect(readFd(ro)).toBe('lower data');
        st = fstatSync(rw);
        expect([st.nlink, st.size, st.ino]).toEqual([0, 5, newIno]);
        fchmodSync(rw, 0o604);
        ftruncateSync(rw, 2);
        expect([fstatSync(rw).mode & 0o7777, fstatSync(rw).size]).toEqual([0o604, 2]);
        const now = statSync(v.p('new.txt'));
        expect([now.size, now.mode & 0o7777, now.nlink]).toEqual([14, 0o644, 1]);
        expect(readFileSync(v.p('new.txt'), 'utf8')).toBe('the other file');
      } finally {
        closeSync(ro);
        closeSync(rw);
      }
    },
  },
  {
    title: 'fallocate: plain and ZERO_RANGE extend the file, KEEP_SIZE does not, PUNCH_HOLE zeroes the range, 64-bit offsets are exact',
    layers: LAYERS,
    run(v) {
      writeFileSync(v.p('f'), KIB16);
      const ok = (mode: number) => expected(v, mode);
      expect(falloc(v, 'f', 0, 0n, 1n << 20n)).toBe(ok(0));
      const plain = ok(0) === 'OK';
      expect(statSync(v.p('f')).size).toBe(plain ? 1 << 20 : 16384);
      expect(falloc(v, 'f', KEEP_SIZE, 1n << 21n, 1n << 20n)).toBe(ok(KEEP_SIZE));
      expect(statSync(v.p('f')).size).toBe(plain ? 1 << 20 : 16384);
      expect(falloc(v, 'f', PUNCH_HOLE | KEEP_SIZE, 4096n, 8192n)).toBe(ok(PUNCH_HOLE));
      const data = readFileSync(v.p('f'));
      if (plain) {
        expect(data.subarray(0, 4096).equals(KIB16.subarray(0, 4096))).toBe(true);
        expect(data.subarray(4096, 12288).equals(Buffer.alloc(8192))).toBe(true);
        expect(data.subarray(12288, 16384).equals(KIB16.subarray(0, 4096))).toBe(true);
      }
      expect(falloc(v, 'f', PUNCH_HOLE, 0n, 4096n)).toBe('EOPNOTSUPP'); // PUNCH_HOLE needs KEEP_SIZE everywhere
      expect(falloc(v, 'f', ZERO_RANGE, (1n << 20n) - 4096n, 8192n)).toBe(ok(ZERO_RANGE));
      expect(statSync(v.p('f')).size).toBe(plain ? (1 << 20) + 4096 : 16384);
      expect(falloc(v, 'f', 0, (1n << 40n) + 5n, 4096n)).toBe(ok(0));
      expect(statSync(v.p('f')).size).toBe(plain ? 2 ** 40 + 5 + 4096 : 16384);
      expect(falloc(v, 'f', 0, -1n, 1n)).toBe('EINVAL'); // the VFS checks it before any filesystem
    },
  },
  {
    title: 'fallocate on a lower file opened for writing changes the copy, never the layer; on a read-only handle it is EBADF',
    layers: LAYERS,
    run(v) {
      expect(falloc(v, 'big.bin', PUNCH_HOLE | KEEP_SIZE, 0n, 8192n)).toBe(expected(v, PUNCH_HOLE));
      const data = readFileSync(v.p('big.bin'));
      expect(data.length).toBe(16384);
      const punched = expected(v, PUNCH_HOLE) === 'OK';
      expect(data.subarray(0, 8192).equals(punched ? Buffer.alloc(8192) : KIB16.subarray(0, 8192))).toBe(true);
      expect(data.subarray(8192).equals(KIB16.subarray(8192))).toBe(true);
      const fd = openSync(v.p('low.txt'), constants.O_RDONLY);
      try {
        expect(errno(() => native.fallocate(fd, 0, 0n, 4096n))).toBe('EBADF');
      } finally {
        closeSync(fd);
      }
      expect(statSync(v.p('low.txt')).size).toBe(10);
    },
  },
  {
    title: 'fallocate COLLAPSE_RANGE and INSERT_RANGE: ext4 shifts the data; FUSE refuses both (EOPNOTSUPP) and leaves the file as it was',
    layers: LAYERS,
    run(v) {
      const text = Buffer.concat([Buffer.alloc(4096, 'a'), Buffer.alloc(4096, 'b'), Buffer.alloc(4096, 'c')]);
      writeFileSync(v.p('f'), text);
      expect(falloc(v, 'f', COLLAPSE_RANGE, 4096n, 4096n)).toBe(expected(v, COLLAPSE_RANGE));
      const collapsed = expected(v, COLLAPSE_RANGE) === 'OK';
      const after = collapsed ? Buffer.concat([text.subarray(0, 4096), text.subarray(8192)]) : text;
      expect(readFileSync(v.p('f')).equals(after)).toBe(true);
      expect(falloc(v, 'f', INSERT_RANGE, 0n, 4096n)).toBe(expected(v, INSERT_RANGE));
      const inserted = collapsed ? Buffer.concat([Buffer.alloc(4096), after]) : after;
      expect(readFileSync(v.p('f')).equals(inserted)).toBe(true);
    },
  },
  {
    title: 'a file open for writing changes by name and through its descriptor alike; a name then given to another file changes that file only',
    layers: LAYERS,
    run(v) {
      const fd = openSync(v.p('low.txt'), constants.O_RDWR);
      try {
        fchownSync(fd, 1234, 5678);
        fchmodSync(fd, 0o640);
        futimesSync(fd, T2001, T2001 + 1);
        let st = statSync(v.p('low.txt'));
        expect([st.mode & 0o7777, st.uid, st.gid, st.mtimeMs]).toEqual([0o640, 1234, 5678, (T2001 + 1) * 1000]);
        chmodSync(v.p('low.txt'), 0o600);
        chownSync(v.p('low.txt'), 4321, 8765);
        utimesSync(v.p('low.txt'), T2001, T2001 + 2);
        st = fstatSync(fd);
        expect([st.mode & 0o7777, st.uid, st.gid, st.mtimeMs]).toEqual([0o600, 4321, 8765, (T2001 + 2) * 1000]);
        writeFileSync(v.p('new.txt'), 'new');
        renameSync(v.p('new.txt'), v.p('low.txt'));
        chmodSync(v.p('low.txt'), 0o604);
        chownSync(v.p('low.txt'), 11, 12);
        utimesSync(v.p('low.txt'), T2001, T2001 + 3);
        st = statSync(v.p('low.txt'));
        expect([st.mode & 0o7777, st.uid, st.gid, st.mtimeMs]).toEqual([0o604, 11, 12, (T2001 + 3) * 1000]);
        st = fstatSync(fd);
        expect([st.mode & 0o7777, st.uid, st.gid, st.mtimeMs, st.nlink]).toEqual([0o600, 4321, 8765, (T2001 + 2) * 1000, 0]);
        expect(readFd(fd)).toBe('lower data');
      } finally {
        closeSync(fd);
      }
    },
  },
  {
    title: 'a write removes the file capability of the file written (security.capability), open or not when it was set',
    layers: LAYERS,
    run(v) {
      // vfs_cap_data revision 2, effective, CAP_NET_BIND_SERVICE permitted.
      const cap = Buffer.alloc(20);
      cap.writeUInt32LE(0x02000001, 0);
      cap.writeUInt32LE(1 << 10, 4);
      for (const [rel, openFirst] of [['other.txt', false], ['made.bin', true]] as const) {
        if (rel === 'made.bin') writeFileSync(v.p(rel), 'made');
        const early = openFirst ? openSync(v.p(rel), constants.O_WRONLY) : undefined;
        setXattr(v.p(rel), 'security.capability', cap);
        expect(getXattr(v.p(rel), 'security.capability')).toEqual(cap);
        const fd = early ?? openSync(v.p(rel), constants.O_WRONLY);
        try {
          writeSync(fd, 'W', 0);
          expect(getXattr(v.p(rel), 'security.capability')).toBeUndefined();
        } finally {
          closeSync(fd);
        }
      }
    },
  },
];

runCases('open files without a name, and fallocate', cases, { kernelOpens: true });
