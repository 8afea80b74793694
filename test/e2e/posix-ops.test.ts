// POSIX file and directory operations through a worldfs view: getattr/readdir of merged dirs,
// create/open/read/write/append/fsync, truncate, mkdir/rmdir, unlink, hard links, symlinks, fifos.
// Every row runs on worldfs with aufs and overlay whiteouts and on a plain directory (the oracle).
import {
  appendFileSync, closeSync, constants, existsSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, linkSync,
  lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, readSync, rmdirSync, rmSync, statSync,
  symlinkSync, truncateSync, unlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { fifo, opaqueDir, symlink, whiteout, type Tree } from './support/tree.js';
import { errno, runCases, sh, type Case, type View } from './support/views.js';

/** Two lower layers, top first: names only in l0, only in l1, in both (l0 wins), and merged dirs. */
const L0: Tree = {
  'a.txt': 'a from l0',
  'top.txt': 'top',
  merged: { zero: '0', shared: 'shared from l0', sub: { deep0: 'deep0' } },
};
const L1: Tree = {
  'a.txt': 'a from l1',
  'low.txt': 'only in l1',
  merged: { one: '1', shared: 'shared from l1', sub: { deep1: 'deep1' } },
  lowdir: { f: 'f', g: { h: 'h' } },
  empty: {},
};
const LAYERS = [L0, L1];

const read = (v: View, rel: string) => readFileSync(v.p(rel), 'utf8');
const list = (v: View, rel = '') => readdirSync(v.p(rel)).sort();

const cases: Case[] = [
  {
    title: 'getattr and readdir of merged directories: every name once, the highest copy wins, ENOENT and ENOTDIR where due',
    layers: LAYERS,
    run(v) {
      const a = statSync(v.p('a.txt'));
      expect(a.isFile()).toBe(true);
      expect(a.size).toBe('a from l0'.length);
      expect(statSync(v.p('low.txt')).size).toBe('only in l1'.length);
      expect(statSync(v.p('merged')).isDirectory()).toBe(true);
      expect(statSync(v.p('merged/sub')).isDirectory()).toBe(true);
      expect(statSync(v.p('lowdir/g/h')).isFile()).toBe(true);
      expect(errno(() => statSync(v.p('nope')))).toBe('ENOENT');
      expect(errno(() => statSync(v.p('nope/deeper')))).toBe('ENOENT');
      expect(errno(() => statSync(v.p('a.txt/x')))).toBe('ENOTDIR');
      expect(list(v)).toEqual(['a.txt', 'empty', 'low.txt', 'lowdir', 'merged', 'top.txt']);
      expect(list(v, 'merged')).toEqual(['one', 'shared', 'sub', 'zero']);
      expect(list(v, 'merged/sub')).toEqual(['deep0', 'deep1']);
      expect(list(v, 'empty')).toEqual([]);
      expect(read(v, 'merged/shared')).toBe('shared from l0');
      expect(read(v, 'merged/one')).toBe('1');
      expect(read(v, 'merged/sub/deep1')).toBe('deep1');
      const types = readdirSync(v.p(), { withFileTypes: true }).map((d) => `${d.name}:${d.isDirectory() ? 'd' : 'f'}`).sort();
      expect(types).toEqual(['a.txt:f', 'empty:d', 'low.txt:f', 'lowdir:d', 'merged:d', 'top.txt:f']);
    },
  },
  {
    title: 'whiteouts and opaque directories already in a lower layer hide what is below them',
    layers: [
      { gone: whiteout(), opq: opaqueDir({ mine: 'mine' }), mixed: { gone2: whiteout(), keep: 'k0' }, fileOverDir: 'now a file' },
      { gone: 'hidden', opq: { theirs: 'hidden' }, mixed: { gone2: 'hidden', other: 'o1' }, fileOverDir: { x: 'hidden' } },
    ],
    run(v) {
      expect(list(v)).toEqual(['fileOverDir', 'mixed', 'opq']);
      expect(errno(() => statSync(v.p('gone')))).toBe('ENOENT');
      expect(list(v, 'opq')).toEqual(['mine']);
      expect(errno(() => statSync(v.p('opq/theirs')))).toBe('ENOENT');
      expect(list(v, 'mixed')).toEqual(['keep', 'other']);
      expect(read(v, 'fileOverDir')).toBe('now a file');
      expect(errno(() => readdirSync(v.p('fileOverDir')))).toBe('ENOTDIR');
    },
  },
  {
    title: 'create, write, read, fsync and close new files at the root, in merged dirs and in lower-only dirs',
    layers: LAYERS,
    run(v) {
      for (const rel of ['new.txt', 'merged/new.txt', 'lowdir/g/new.txt']) {
        const fd = openSync(v.p(rel), constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, 0o640);
        expect(writeSync(fd, `hello ${rel}`)).toBe(`hello ${rel}`.length);
        const buf = Buffer.alloc(64);
        const n = readSync(fd, buf, 0, 64, 0);
        expect(buf.subarray(0, n).toString()).toBe(`hello ${rel}`);
        expect(fstatSync(fd).mode & 0o777).toBe(0o640);
        closeSync(fd);
        expect(read(v, rel)).toBe(`hello ${rel}`);
      }
      expect(list(v, 'lowdir/g')).toEqual(['h', 'new.txt']);
      expect(list(v, 'merged')).toEqual(['new.txt', 'one', 'shared', 'sub', 'zero']);
      expect(errno(() => openSync(v.p('low.txt'), constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY))).toBe('EEXIST');
      expect(errno(() => openSync(v.p('nope/x'), 'w'))).toBe('ENOENT');
      expect(errno(() => openSync(v.p('merged'), 'r+'))).toBe('EISDIR');
      if (v.variant.union) expect(readFileSync(join(v.upper, 'lowdir/g/new.txt'), 'utf8')).toBe('hello lowdir/g/new.txt');
      const fd = openSync(v.p('top.txt'), 'r+');
      writeSync(fd, 'TOP', 0);
      fsyncSync(fd);
      fdatasyncSync(fd);
      closeSync(fd);
      const fd2 = openSync(v.p('merged/synced'), 'w');
      writeSync(fd2, 'synced');
      fdatasyncSync(fd2);
      fsyncSync(fd2);
      closeSync(fd2);
      const dfd = openSync(v.p('merged'), 'r');
      fsyncSync(dfd);
      closeSync(dfd);
      expect(read(v, 'top.txt')).toBe('TOP');
      expect(read(v, 'merged/synced')).toBe('synced');
    },
  },
  {
    title: 'writing into the middle of a lower file or appending to it (appendFile, O_APPEND) keeps the rest of its content',
    layers: LAYERS,
    run(v) {
      const fd = openSync(v.p('merged/shared'), 'r+');
      writeSync(fd, 'SH', 0);
      closeSync(fd);
      expect(read(v, 'merged/shared')).toBe('SHared from l0');
      writeFileSync(v.p('low.txt'), 'replaced');
      expect(read(v, 'low.txt')).toBe('replaced');
      appendFileSync(v.p('a.txt'), '+1');
      appendFileSync(v.p('a.txt'), '+2');
      expect(read(v, 'a.txt')).toBe('a from l0+1+2');
      const afd = openSync(v.p('lowdir/f'), constants.O_WRONLY | constants.O_APPEND);
      writeSync(afd, '-x');
      writeSync(afd, '-y');
      closeSync(afd);
      expect(read(v, 'lowdir/f')).toBe('f-x-y');
      expect(statSync(v.p('lowdir/f')).size).toBe(5);
      appendFileSync(v.p('fresh'), 'one');
      appendFileSync(v.p('fresh'), 'two');
      expect(read(v, 'fresh')).toBe('onetwo');
    },
  },
  {
    title: 'truncate by path and by descriptor shrinks and extends lower files; O_TRUNC empties them; directories and read-only descriptors are refused',
    layers: LAYERS,
    run(v) {
      truncateSync(v.p('a.txt'), 3);
      expect(read(v, 'a.txt')).toBe('a f');
      truncateSync(v.p('low.txt'), 12);
      expect(readFileSync(v.p('low.txt'))).toEqual(Buffer.concat([Buffer.from('only in l1'), Buffer.alloc(2)]));
      truncateSync(v.p('merged/one'), 0);
      expect(statSync(v.p('merged/one')).size).toBe(0);
      expect(errno(() => truncateSync(v.p('merged'), 0))).toBe('EISDIR');
      expect(errno(() => truncateSync(v.p('nope'), 0))).toBe('ENOENT');
      const fd = openSync(v.p('merged/shared'), 'r+');
      ftruncateSync(fd, 6);
      expect(fstatSync(fd).size).toBe(6);
      closeSync(fd);
      expect(read(v, 'merged/shared')).toBe('shared');
      closeSync(openSync(v.p('lowdir/f'), constants.O_WRONLY | constants.O_TRUNC));
      expect(read(v, 'lowdir/f')).toBe('');
      const ro = openSync(v.p('top.txt'), 'r');
      expect(errno(() => ftruncateSync(ro, 0))).toBe('EINVAL');
      closeSync(ro);
      expect(read(v, 'top.txt')).toBe('top');
    },
  },
  {
    title: 'mkdir creates directories anywhere, EEXIST over lower names, ENOTDIR under a file, with the mode asked for',
    layers: LAYERS,
    run(v) {
      mkdirSync(v.p('d1'), { mode: 0o750 });
      mkdirSync(v.p('lowdir/g/d2'));
      mkdirSync(v.p('merged/sub/d3'));
      expect(statSync(v.p('d1')).mode & 0o777).toBe(0o750);
      expect(list(v, 'd1')).toEqual([]);
      expect(list(v, 'lowdir/g')).toEqual(['d2', 'h']);
      expect(list(v, 'merged/sub')).toEqual(['d3', 'deep0', 'deep1']);
      expect(errno(() => mkdirSync(v.p('lowdir')))).toBe('EEXIST');
      expect(errno(() => mkdirSync(v.p('low.txt')))).toBe('EEXIST');
      expect(errno(() => mkdirSync(v.p('low.txt/x')))).toBe('ENOTDIR');
      expect(errno(() => mkdirSync(v.p('nope/x')))).toBe('ENOENT');
    },
  },
  {
    title: 'rmdir refuses directories whose lower layers still have entries, and removes them once the view is empty',
    layers: LAYERS,
    run(v) {
      expect(errno(() => rmdirSync(v.p('merged/sub')))).toBe('ENOTEMPTY');
      expect(errno(() => rmdirSync(v.p('lowdir')))).toBe('ENOTEMPTY');
      expect(errno(() => rmdirSync(v.p('low.txt')))).toBe('ENOTDIR');
      expect(errno(() => rmdirSync(v.p('nope')))).toBe('ENOENT');
      unlinkSync(v.p('merged/sub/deep0'));
      expect(errno(() => rmdirSync(v.p('merged/sub')))).toBe('ENOTEMPTY');
      unlinkSync(v.p('merged/sub/deep1'));
      expect(list(v, 'merged/sub')).toEqual([]);
      rmdirSync(v.p('merged/sub'));
      expect(list(v, 'merged')).toEqual(['one', 'shared', 'zero']);
      rmdirSync(v.p('empty'));
      expect(errno(() => statSync(v.p('empty')))).toBe('ENOENT');
      expect(list(v)).toEqual(['a.txt', 'low.txt', 'lowdir', 'merged', 'top.txt']);
    },
  },
  {
    title: 'a directory removed and made again over a lower one is empty, and its old entries never come back',
    layers: LAYERS,
    run(v) {
      rmSync(v.p('lowdir'), { recursive: true });
      expect(existsSync(v.p('lowdir'))).toBe(false);
      mkdirSync(v.p('lowdir'));
      expect(list(v, 'lowdir')).toEqual([]);
      expect(errno(() => statSync(v.p('lowdir/f')))).toBe('ENOENT');
      expect(errno(() => statSync(v.p('lowdir/g')))).toBe('ENOENT');
      mkdirSync(v.p('lowdir/g'));
      expect(list(v, 'lowdir/g')).toEqual([]);
      writeFileSync(v.p('lowdir/new'), 'n');
      expect(list(v, 'lowdir')).toEqual(['g', 'new']);
      // The same through a directory merged from two layers.
      rmSync(v.p('merged'), { recursive: true });
      mkdirSync(v.p('merged'));
      expect(list(v, 'merged')).toEqual([]);
      expect(errno(() => readFileSync(v.p('merged/shared')))).toBe('ENOENT');
      rmdirSync(v.p('merged'));
      expect(existsSync(v.p('merged'))).toBe(false);
    },
  },
  {
    title: 'unlink hides a lower file for good, never uncovering a copy in a lower layer, and refuses directories',
    layers: LAYERS,
    run(v) {
      unlinkSync(v.p('a.txt')); // l1 has an a.txt too: it must stay hidden
      expect(errno(() => statSync(v.p('a.txt')))).toBe('ENOENT');
      expect(errno(() => readFileSync(v.p('a.txt')))).toBe('ENOENT');
      unlinkSync(v.p('merged/shared'));
      expect(errno(() => statSync(v.p('merged/shared')))).toBe('ENOENT');
      unlinkSync(v.p('lowdir/g/h'));
      expect(list(v)).toEqual(['empty', 'low.txt', 'lowdir', 'merged', 'top.txt']);
      expect(list(v, 'merged')).toEqual(['one', 'sub', 'zero']);
      expect(list(v, 'lowdir/g')).toEqual([]);
      expect(errno(() => unlinkSync(v.p('a.txt')))).toBe('ENOENT');
      expect(errno(() => unlinkSync(v.p('lowdir')))).toBe('EISDIR');
      writeFileSync(v.p('a.txt'), 'new a');
      expect(read(v, 'a.txt')).toBe('new a');
      unlinkSync(v.p('a.txt'));
      expect(errno(() => statSync(v.p('a.txt')))).toBe('ENOENT');
    },
  },
  {
    title: 'a hard link to a lower file shares content and link count with it',
    layers: LAYERS,
    run(v) {
      linkSync(v.p('low.txt'), v.p('merged/hard'));
      writeFileSync(v.p('merged/hard'), 'written through the link');
      expect(read(v, 'low.txt')).toBe('written through the link');
      appendFileSync(v.p('low.txt'), '!');
      expect(read(v, 'merged/hard')).toBe('written through the link!');
      const a = statSync(v.p('low.txt'));
      const b = statSync(v.p('merged/hard'));
      expect(a.nlink).toBe(2);
      expect(b.nlink).toBe(2);
      expect(b.ino).toBe(a.ino);
      expect(b.size).toBe(a.size);
      unlinkSync(v.p('low.txt'));
      expect(statSync(v.p('merged/hard')).nlink).toBe(1);
      expect(read(v, 'merged/hard')).toBe('written through the link!');
      expect(errno(() => linkSync(v.p('top.txt'), v.p('a.txt')))).toBe('EEXIST');
      expect(errno(() => linkSync(v.p('lowdir'), v.p('dirlink')))).toBe('EPERM');
      expect(errno(() => linkSync(v.p('nope'), v.p('x')))).toBe('ENOENT');
    },
  },
  {
    title: 'hard links between new files share the inode',
    layers: LAYERS,
    run(v) {
      writeFileSync(v.p('n1'), 'one');
      linkSync(v.p('n1'), v.p('lowdir/n2'));
      expect(statSync(v.p('lowdir/n2')).size).toBe(3);
      writeFileSync(v.p('lowdir/n2'), 'twenty-two');
      expect(statSync(v.p('n1')).size).toBe(10);
      expect(read(v, 'n1')).toBe('twenty-two');
      expect(statSync(v.p('n1')).nlink).toBe(2);
      expect(statSync(v.p('lowdir/n2')).ino).toBe(statSync(v.p('n1')).ino);
    },
  },
  {
    title: 'symlink and readlink, on new and lower links, dangling or not',
    layers: [{ ...L0, ln: symlink('a.txt'), dangling: symlink('no/such') }, L1],
    run(v) {
      symlinkSync('merged/shared', v.p('mine'));
      symlinkSync('../top.txt', v.p('lowdir/up'));
      expect(lstatSync(v.p('mine')).isSymbolicLink()).toBe(true);
      expect(readlinkSync(v.p('mine'))).toBe('merged/shared');
      expect(read(v, 'mine')).toBe('shared from l0');
      expect(read(v, 'lowdir/up')).toBe('top');
      expect(readlinkSync(v.p('ln'))).toBe('a.txt');
      expect(read(v, 'ln')).toBe('a from l0');
      expect(lstatSync(v.p('dangling')).isSymbolicLink()).toBe(true);
      expect(errno(() => statSync(v.p('dangling')))).toBe('ENOENT');
      expect(errno(() => readlinkSync(v.p('a.txt')))).toBe('EINVAL');
      expect(errno(() => symlinkSync('x', v.p('a.txt')))).toBe('EEXIST');
      writeFileSync(v.p('ln'), 'through the link');
      expect(read(v, 'a.txt')).toBe('through the link');
      expect(lstatSync(v.p('ln')).isSymbolicLink()).toBe(true);
    },
  },
  {
    title: 'mknod makes fifos and device nodes, which stat and unlink like any entry; a lower fifo passes data',
    layers: [{ ...L0, pipe: fifo() }, L1],
    run(v) {
      expect(sh('mknod', ['-m', '640', v.p('merged/fifo'), 'p']).status).toBe(0);
      expect(sh('mkfifo', [v.p('lowdir/fifo2')]).status).toBe(0);
      expect(sh('mknod', [v.p('null2'), 'c', '1', '3']).status).toBe(0);
      const st = lstatSync(v.p('merged/fifo'));
      expect(st.isFIFO()).toBe(true);
      expect(st.mode & 0o777).toBe(0o640);
      expect(lstatSync(v.p('lowdir/fifo2')).isFIFO()).toBe(true);
      const dev = lstatSync(v.p('null2'));
      expect(dev.isCharacterDevice()).toBe(true);
      expect(dev.rdev).toBe(0x103);
      expect(list(v, 'merged')).toEqual(['fifo', 'one', 'shared', 'sub', 'zero']);
      unlinkSync(v.p('merged/fifo'));
      expect(errno(() => lstatSync(v.p('merged/fifo')))).toBe('ENOENT');
      expect(sh('mknod', [v.p('low.txt'), 'p']).stderr).toMatch(/File exists/);
      expect(lstatSync(v.p('pipe')).isFIFO()).toBe(true);
      const r = sh('sh', ['-c', `(echo through-the-fifo > '${v.p('pipe')}' &) ; cat '${v.p('pipe')}'`]);
      expect(r.stdout.trim()).toBe('through-the-fifo');
    },
  },
];

runCases('worldfs POSIX file and directory operations', cases, { kernelOpens: true });
