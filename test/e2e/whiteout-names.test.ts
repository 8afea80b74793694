// The whiteout formats' own namespace seen through the view: names and device nodes a format would
// misread are refused with EPERM, its markers never appear, and what one format reserves is an
// ordinary name in the other (the plain directory shows that such names are ordinary POSIX).
import {
  linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync,
  unlinkSync, writeFileSync,
} from 'node:fs';
import { expect } from 'vitest';
import { opaqueDir, whiteout, type Tree } from './support/tree.js';
import { errno, runCases, sh, type Case, type View } from './support/views.js';

const L0: Tree = {
  'a.txt': 'a from l0',
  merged: { zero: '0', gone: whiteout() },
  opq: opaqueDir({ mine: 'mine' }),
};
const L1: Tree = {
  'a.txt': 'a from l1',
  'b.txt': 'b',
  merged: { one: '1', gone: 'hidden' },
  opq: { theirs: 'hidden' },
  lowdir: { f: 'f' },
};
const LAYERS = [L0, L1];

// Names too long for an aufs `.wh.<name>` marker (NAME_MAX is 255 bytes).
const N252 = 'd'.repeat(252);
const N253 = 'n'.repeat(253);
const N254 = 'l'.repeat(254);
const N255 = 'x'.repeat(255);
const UTF254 = 'é'.repeat(127);

/** Every entry of the view as `path kind rdev`, recursively (lstat, never following links). */
function walk(v: View): string[] {
  const out: string[] = [];
  const go = (rel: string) => {
    for (const name of readdirSync(v.p(rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(v.p(r));
      out.push(`${r} ${st.isCharacterDevice() ? `chardev ${st.rdev}` : st.isDirectory() ? 'dir' : 'other'}`);
      if (st.isDirectory()) go(r);
    }
  };
  go('');
  return out.sort();
}

/** Deletions and replacements that make every format write its markers. */
function churn(v: View): void {
  unlinkSync(v.p('a.txt'));
  unlinkSync(v.p('merged/one'));
  rmSync(v.p('lowdir'), { recursive: true });
  mkdirSync(v.p('lowdir'));
  renameSync(v.p('b.txt'), v.p('merged/b.txt'));
  renameSync(v.p('merged'), v.p('moved'));
}

const AFTER_CHURN = ['lowdir dir', 'moved dir', 'moved/b.txt other', 'moved/zero other', 'opq dir', 'opq/mine other'];

const cases: Case[] = [
  {
    title: 'markers written by deletions, recreations and renames never appear in listings or lookups',
    layers: LAYERS,
    run(v) {
      churn(v);
      expect(walk(v)).toEqual(AFTER_CHURN);
      for (const name of ['.wh.a.txt', '.wh..wh..opq', 'moved/.wh.one', 'lowdir/.wh..wh..opq', 'moved/.wh..wh..redir', 'a.txt', 'moved/one', 'merged', 'b.txt']) {
        expect([name, errno(() => lstatSync(v.p(name)))]).toEqual([name, 'ENOENT']);
      }
    },
  },
  {
    title: 'aufs format: names starting with .wh. cannot be created, linked or renamed to (EPERM)',
    layers: LAYERS,
    only: ['aufs'],
    run(v) {
      expect(errno(() => writeFileSync(v.p('.wh.foo'), 'x'))).toBe('EPERM');
      expect(errno(() => writeFileSync(v.p('merged/.wh.zero'), 'x'))).toBe('EPERM');
      expect(errno(() => writeFileSync(v.p('.wh..wh..opq'), ''))).toBe('EPERM');
      expect(errno(() => mkdirSync(v.p('lowdir/.wh.d')))).toBe('EPERM');
      expect(errno(() => symlinkSync('a.txt', v.p('.wh.link')))).toBe('EPERM');
      expect(errno(() => linkSync(v.p('a.txt'), v.p('.wh.hard')))).toBe('EPERM');
      expect(errno(() => renameSync(v.p('a.txt'), v.p('.wh.b.txt')))).toBe('EPERM');
      expect(errno(() => renameSync(v.p('lowdir'), v.p('.wh..wh..redir')))).toBe('EPERM');
      expect(sh('mknod', [v.p('.wh.fifo'), 'p']).stderr).toMatch(/Operation not permitted/);
      expect(readFileSync(v.p('b.txt'), 'utf8')).toBe('b');
      expect(readFileSync(v.p('a.txt'), 'utf8')).toBe('a from l0');
      expect(readdirSync(v.p()).sort()).toEqual(['a.txt', 'b.txt', 'lowdir', 'merged', 'opq']);
      expect(readdirSync(v.p('merged')).sort()).toEqual(['one', 'zero']);
    },
  },
  {
    title: 'overlay format: a 0/0 character device cannot be created (EPERM), other devices can',
    layers: LAYERS,
    only: ['overlay'],
    run(v) {
      expect(sh('mknod', [v.p('dev00'), 'c', '0', '0']).stderr).toMatch(/Operation not permitted/);
      unlinkSync(v.p('b.txt'));
      expect(sh('mknod', [v.p('b.txt'), 'c', '0', '0']).stderr).toMatch(/Operation not permitted/);
      expect(sh('mknod', [v.p('merged/gone'), 'c', '0', '0']).stderr).toMatch(/Operation not permitted/);
      expect(errno(() => lstatSync(v.p('dev00')))).toBe('ENOENT');
      expect(errno(() => lstatSync(v.p('b.txt')))).toBe('ENOENT');
      expect(sh('mknod', [v.p('dev01'), 'c', '0', '1']).status).toBe(0);
      expect(lstatSync(v.p('dev01')).rdev).toBe(1);
      expect(readdirSync(v.p()).sort()).toEqual(['a.txt', 'dev01', 'lowdir', 'merged', 'opq']);
    },
  },
  {
    title: 'names starting with .wh. are ordinary names outside the aufs format',
    layers: LAYERS,
    only: ['overlay', 'plain'],
    run(v) {
      writeFileSync(v.p('.wh.foo'), 'foo');
      mkdirSync(v.p('merged/.wh..wh..opq'));
      expect(readFileSync(v.p('.wh.foo'), 'utf8')).toBe('foo');
      expect(readdirSync(v.p('merged')).sort()).toEqual(['.wh..wh..opq', 'one', 'zero']);
      renameSync(v.p('a.txt'), v.p('.wh.b.txt'));
      expect(readFileSync(v.p('b.txt'), 'utf8')).toBe('b');
      expect(readdirSync(v.p()).sort()).toEqual(['.wh.b.txt', '.wh.foo', 'b.txt', 'lowdir', 'merged', 'opq']);
      unlinkSync(v.p('.wh.foo'));
      expect(errno(() => statSync(v.p('.wh.foo')))).toBe('ENOENT');
    },
  },
  {
    title: 'a 0/0 character device is an ordinary device outside the overlay format',
    layers: LAYERS,
    only: ['aufs', 'plain'],
    run(v) {
      expect(sh('mknod', [v.p('dev00'), 'c', '0', '0']).status).toBe(0);
      const st = lstatSync(v.p('dev00'));
      expect(st.isCharacterDevice()).toBe(true);
      expect(st.rdev).toBe(0);
      expect(readdirSync(v.p()).sort()).toEqual(['a.txt', 'b.txt', 'dev00', 'lowdir', 'merged', 'opq']);
    },
  },
  {
    title: 'every name of up to 255 bytes is created, reached, renamed and deleted, lower ones too (aufs: a hashed whiteout)',
    layers: [{ merged: { top: 'top' } }, { [N255]: 'lower 255', [N254]: 'lower 254', [N252]: { f: 'f', g: 'g' }, merged: { [UTF254]: 'lower utf', keep: 'k' } }],
    run(v) {
      expect(readFileSync(v.p(N255), 'utf8')).toBe('lower 255');
      expect(readFileSync(v.p(`merged/${UTF254}`), 'utf8')).toBe('lower utf');
      writeFileSync(v.p(N253), 'new 253');
      expect(readFileSync(v.p(N253), 'utf8')).toBe('new 253');
      unlinkSync(v.p(N255));
      expect(errno(() => lstatSync(v.p(N255)))).toBe('ENOENT');
      unlinkSync(v.p(`merged/${UTF254}`));
      expect(readdirSync(v.p('merged')).sort()).toEqual(['keep', 'top']);
      rmSync(v.p(N252), { recursive: true });
      expect(errno(() => readdirSync(v.p(N252)))).toBe('ENOENT');
      mkdirSync(v.p(N252));
      expect(readdirSync(v.p(N252))).toEqual([]); // the deleted lower contents stay deleted
      renameSync(v.p(N254), v.p(N255));
      expect(readFileSync(v.p(N255), 'utf8')).toBe('lower 254');
      expect(errno(() => lstatSync(v.p(N254)))).toBe('ENOENT');
      expect(readdirSync(v.p()).sort()).toEqual([N252, N253, N255, 'merged'].sort());
      renameSync(v.p(N255), v.p(N254));
      writeFileSync(v.p(N255), 'again');
      expect(readdirSync(v.p()).sort()).toEqual([N252, N253, N254, N255, 'merged'].sort());
      expect(errno(() => writeFileSync(v.p('x'.repeat(256)), ''))).toBe('ENAMETOOLONG');
      for (const n of [N252, N253, N254, N255, 'merged']) rmSync(v.p(n), { recursive: true });
      expect(readdirSync(v.p())).toEqual([]);
    },
  },
];

runCases('worldfs whiteout namespace', cases);
