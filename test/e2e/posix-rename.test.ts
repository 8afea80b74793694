// rename(2) through a worldfs view: files, replacement, directories that live only in lower layers
// or are merged from two, and every error rename(2) documents. Each row runs on worldfs with aufs
// and overlay whiteouts and on a plain directory (the oracle).
import {
  existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync,
  writeFileSync,
} from 'node:fs';
import { expect } from 'vitest';
import type { Tree } from './support/tree.js';
import { errno, runCases, type Case, type View } from './support/views.js';

const L0: Tree = {
  'a.txt': 'a from l0',
  'top.txt': 'top',
  merged: { zero: '0', shared: 'shared from l0', sub: { deep0: 'deep0' } },
  emptyBoth: {},
  full: { keep: 'k0' },
};
const L1: Tree = {
  'a.txt': 'a from l1',
  'low.txt': 'only in l1',
  merged: { one: '1', shared: 'shared from l1', sub: { deep1: 'deep1' } },
  lowdir: { f: 'f', g: { h: 'h' } },
  empty: {},
  emptyBoth: {},
  full: { keep1: 'k1' },
  other: { 'x.txt': 'x in l1' },
};
const LAYERS = [L0, L1];

const read = (v: View, rel: string) => readFileSync(v.p(rel), 'utf8');
const list = (v: View, rel = '') => readdirSync(v.p(rel)).sort();
const ROOT_NAMES = ['a.txt', 'empty', 'emptyBoth', 'full', 'low.txt', 'lowdir', 'merged', 'other', 'top.txt'];

/** Every file under `rel` with its content, as `path=content` lines (a recursive listing). */
function tree(v: View, rel: string): string[] {
  const out: string[] = [];
  const walk = (r: string) => {
    for (const name of readdirSync(v.p(r)).sort()) {
      const child = `${r}/${name}`;
      if (statSync(v.p(child)).isDirectory()) { out.push(`${child.slice(rel.length + 1)}/`); walk(child); }
      else out.push(`${child.slice(rel.length + 1)}=${read(v, child)}`);
    }
  };
  walk(rel);
  return out;
}

const MERGED_TREE = ['one=1', 'shared=shared from l0', 'sub/', 'sub/deep0=deep0', 'sub/deep1=deep1', 'zero=0'];

const cases: Case[] = [
  {
    title: 'a lower file renamed to a new name keeps its content and leaves nothing at the old name',
    layers: LAYERS,
    run(v) {
      renameSync(v.p('low.txt'), v.p('moved.txt'));
      expect(read(v, 'moved.txt')).toBe('only in l1');
      expect(errno(() => statSync(v.p('low.txt')))).toBe('ENOENT');
      renameSync(v.p('a.txt'), v.p('lowdir/g/a2.txt')); // l1 also has a.txt: it must stay hidden
      expect(read(v, 'lowdir/g/a2.txt')).toBe('a from l0');
      expect(errno(() => statSync(v.p('a.txt')))).toBe('ENOENT');
      expect(list(v)).toEqual(['empty', 'emptyBoth', 'full', 'lowdir', 'merged', 'moved.txt', 'other', 'top.txt']);
      expect(list(v, 'lowdir/g')).toEqual(['a2.txt', 'h']);
    },
  },
  {
    title: 'rename over an existing lower file replaces it',
    layers: LAYERS,
    run(v) {
      renameSync(v.p('top.txt'), v.p('a.txt'));
      expect(read(v, 'a.txt')).toBe('top');
      expect(existsSync(v.p('top.txt'))).toBe(false);
      renameSync(v.p('merged/one'), v.p('other/x.txt'));
      expect(read(v, 'other/x.txt')).toBe('1');
      expect(list(v, 'merged')).toEqual(['shared', 'sub', 'zero']);
      writeFileSync(v.p('new'), 'new');
      renameSync(v.p('new'), v.p('merged/shared'));
      expect(read(v, 'merged/shared')).toBe('new');
      expect(list(v, 'merged')).toEqual(['shared', 'sub', 'zero']);
    },
  },
  {
    title: 'a file renamed onto a name that was deleted shows the new file only',
    layers: LAYERS,
    run(v) {
      unlinkSync(v.p('merged/shared'));
      renameSync(v.p('low.txt'), v.p('merged/shared'));
      expect(read(v, 'merged/shared')).toBe('only in l1');
      expect(list(v, 'merged')).toEqual(['one', 'shared', 'sub', 'zero']);
      unlinkSync(v.p('merged/shared'));
      expect(errno(() => statSync(v.p('merged/shared')))).toBe('ENOENT');
    },
  },
  {
    title: 'rename then rename back restores the view; renaming onto itself or onto another link of the same file changes nothing',
    layers: LAYERS,
    run(v) {
      renameSync(v.p('a.txt'), v.p('b.txt'));
      renameSync(v.p('b.txt'), v.p('a.txt'));
      expect(read(v, 'a.txt')).toBe('a from l0');
      expect(list(v)).toEqual(ROOT_NAMES);
      renameSync(v.p('merged'), v.p('m2'));
      renameSync(v.p('m2'), v.p('merged'));
      expect(tree(v, 'merged')).toEqual(MERGED_TREE);
      renameSync(v.p('lowdir'), v.p('merged/sub/ld'));
      renameSync(v.p('merged/sub/ld'), v.p('lowdir'));
      expect(tree(v, 'lowdir')).toEqual(['f=f', 'g/', 'g/h=h']);
      expect(list(v)).toEqual(ROOT_NAMES);
      expect(list(v, 'merged/sub')).toEqual(['deep0', 'deep1']);
      renameSync(v.p('a.txt'), v.p('a.txt'));
      renameSync(v.p('merged'), v.p('merged'));
      expect(read(v, 'a.txt')).toBe('a from l0');
      linkSync(v.p('low.txt'), v.p('hard'));
      renameSync(v.p('low.txt'), v.p('hard'));
      expect(read(v, 'low.txt')).toBe('only in l1');
      expect(read(v, 'hard')).toBe('only in l1');
      expect(list(v)).toEqual([...ROOT_NAMES, 'hard'].sort());
    },
  },
  {
    title: 'a directory that exists only in a lower layer is renamed with all its entries',
    layers: LAYERS,
    run(v) {
      renameSync(v.p('lowdir'), v.p('moved'));
      expect(tree(v, 'moved')).toEqual(['f=f', 'g/', 'g/h=h']);
      expect(errno(() => statSync(v.p('lowdir')))).toBe('ENOENT');
      expect(list(v)).toEqual(['a.txt', 'empty', 'emptyBoth', 'full', 'low.txt', 'merged', 'moved', 'other', 'top.txt']);
      writeFileSync(v.p('moved/g/new'), 'n');
      unlinkSync(v.p('moved/f'));
      expect(tree(v, 'moved')).toEqual(['g/', 'g/h=h', 'g/new=n']);
      renameSync(v.p('moved/g'), v.p('other/g'));
      expect(tree(v, 'other')).toEqual(['g/', 'g/h=h', 'g/new=n', 'x.txt=x in l1']);
      mkdirSync(v.p('lowdir'));
      expect(list(v, 'lowdir')).toEqual([]);
    },
  },
  {
    title: 'a directory merged from two layers is renamed with the entries of both',
    layers: LAYERS,
    run(v) {
      renameSync(v.p('merged'), v.p('renamed'));
      expect(tree(v, 'renamed')).toEqual(MERGED_TREE);
      expect(errno(() => statSync(v.p('merged')))).toBe('ENOENT');
      renameSync(v.p('renamed'), v.p('lowdir/g/deeper'));
      expect(tree(v, 'lowdir/g/deeper')).toEqual(MERGED_TREE);
      unlinkSync(v.p('lowdir/g/deeper/shared'));
      expect(errno(() => statSync(v.p('lowdir/g/deeper/shared')))).toBe('ENOENT');
      mkdirSync(v.p('merged'));
      expect(list(v, 'merged')).toEqual([]);
      renameSync(v.p('lowdir/g/deeper/sub'), v.p('merged/sub'));
      expect(tree(v, 'merged')).toEqual(['sub/', 'sub/deep0=deep0', 'sub/deep1=deep1']);
      expect(list(v, 'lowdir/g/deeper')).toEqual(['one', 'zero']);
    },
  },
  {
    title: 'a lower directory moved into a directory made in the view keeps all its entries',
    layers: LAYERS,
    run(v) {
      mkdirSync(v.p('made'));
      renameSync(v.p('lowdir'), v.p('made/ld'));
      expect(tree(v, 'made/ld')).toEqual(['f=f', 'g/', 'g/h=h']);
      renameSync(v.p('merged'), v.p('made/m'));
      expect(tree(v, 'made/m')).toEqual(MERGED_TREE);
      expect(list(v, 'made')).toEqual(['ld', 'm']);
    },
  },
  {
    title: 'a directory renamed over an empty directory replaces it',
    layers: LAYERS,
    run(v) {
      renameSync(v.p('lowdir'), v.p('empty'));
      expect(tree(v, 'empty')).toEqual(['f=f', 'g/', 'g/h=h']);
      expect(existsSync(v.p('lowdir'))).toBe(false);
      renameSync(v.p('merged/sub'), v.p('emptyBoth')); // an empty directory merged from two layers
      expect(tree(v, 'emptyBoth')).toEqual(['deep0=deep0', 'deep1=deep1']);
      mkdirSync(v.p('fresh'));
      renameSync(v.p('other'), v.p('fresh'));
      expect(tree(v, 'fresh')).toEqual(['x.txt=x in l1']);
      expect(list(v)).toEqual(['a.txt', 'empty', 'emptyBoth', 'fresh', 'full', 'low.txt', 'merged', 'top.txt']);
    },
  },
  {
    title: 'rename over a non-empty directory fails with ENOTEMPTY, even when only a lower layer has entries',
    layers: LAYERS,
    run(v) {
      expect(errno(() => renameSync(v.p('empty'), v.p('lowdir')))).toBe('ENOTEMPTY');
      expect(errno(() => renameSync(v.p('empty'), v.p('full')))).toBe('ENOTEMPTY');
      expect(errno(() => renameSync(v.p('lowdir'), v.p('merged')))).toBe('ENOTEMPTY');
      expect(tree(v, 'lowdir')).toEqual(['f=f', 'g/', 'g/h=h']);
      expect(tree(v, 'merged')).toEqual(MERGED_TREE);
      // Once the view of the target is empty, it can be replaced.
      unlinkSync(v.p('full/keep'));
      unlinkSync(v.p('full/keep1'));
      renameSync(v.p('lowdir'), v.p('full'));
      expect(tree(v, 'full')).toEqual(['f=f', 'g/', 'g/h=h']);
    },
  },
  {
    title: 'a directory cannot be moved into itself (EINVAL)',
    layers: LAYERS,
    run(v) {
      expect(errno(() => renameSync(v.p('merged'), v.p('merged/sub/inside')))).toBe('EINVAL');
      expect(errno(() => renameSync(v.p('lowdir'), v.p('lowdir/g/inside')))).toBe('EINVAL');
      expect(errno(() => renameSync(v.p('lowdir'), v.p('lowdir/inside')))).toBe('EINVAL');
      expect(tree(v, 'merged')).toEqual(MERGED_TREE);
      expect(tree(v, 'lowdir')).toEqual(['f=f', 'g/', 'g/h=h']);
    },
  },
  {
    title: 'rename errors: a file over a directory (EISDIR), a directory over a file (ENOTDIR), missing names (ENOENT)',
    layers: LAYERS,
    run(v) {
      expect(errno(() => renameSync(v.p('a.txt'), v.p('empty')))).toBe('EISDIR');
      expect(errno(() => renameSync(v.p('low.txt'), v.p('merged')))).toBe('EISDIR');
      expect(errno(() => renameSync(v.p('empty'), v.p('a.txt')))).toBe('ENOTDIR');
      expect(errno(() => renameSync(v.p('merged'), v.p('low.txt')))).toBe('ENOTDIR');
      expect(read(v, 'a.txt')).toBe('a from l0');
      expect(read(v, 'low.txt')).toBe('only in l1');
      expect(list(v)).toEqual(ROOT_NAMES);
      expect(errno(() => renameSync(v.p('nope'), v.p('x')))).toBe('ENOENT');
      expect(errno(() => renameSync(v.p('a.txt'), v.p('nope/x')))).toBe('ENOENT');
      expect(errno(() => renameSync(v.p('a.txt'), v.p('low.txt/x')))).toBe('ENOTDIR');
      expect(read(v, 'a.txt')).toBe('a from l0');
    },
  },
  {
    title: 'a renamed directory can be removed once emptied, leaving both names free',
    layers: LAYERS,
    run(v) {
      renameSync(v.p('merged'), v.p('gone'));
      for (const rel of ['gone/sub/deep0', 'gone/sub/deep1', 'gone/one', 'gone/zero', 'gone/shared']) unlinkSync(v.p(rel));
      rmdirSync(v.p('gone/sub'));
      rmdirSync(v.p('gone'));
      expect(existsSync(v.p('gone'))).toBe(false);
      expect(existsSync(v.p('merged'))).toBe(false);
      mkdirSync(v.p('gone'));
      mkdirSync(v.p('merged'));
      expect(list(v, 'gone')).toEqual([]);
      expect(list(v, 'merged')).toEqual([]);
    },
  },
];

runCases('worldfs rename', cases, { kernelOpens: true });
