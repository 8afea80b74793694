// renameat2(2) with RENAME_EXCHANGE through a worldfs view: two names swap what they hold, files
// and directories alike, whichever layers those live in, atomically; what the view shows must be
// the same after a remount (a moved directory keeps its lower contents through a redirect, one with
// none is opaque over the name it takes). Each row runs on worldfs with aufs and overlay whiteouts
// and on a plain directory (ext4: the oracle). The kernel transport serves it; fuse-native's
// libfuse 2.9 has no RENAME2, so there the kernel answers EINVAL, and the row checks nothing moved.
import { linkSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { expect } from 'vitest';
import { renameat2, RENAME_EXCHANGE, RENAME_NOREPLACE } from '../../src/host/host-fs.js';
import type { Tree } from './support/tree.js';
import { errno, runCases, type Case, type View } from './support/views.js';

const KERNEL = process.env.WORLDFS_TRANSPORT === 'kernel';

const L0: Tree = {
  'a.txt': 'a from l0',
  merged: { zero: '0', shared: 'shared from l0', sub: { deep0: 'deep0' } },
  far: { away: { 'f.txt': 'far file' } },
};
const L1: Tree = {
  'a.txt': 'a from l1',
  'low.txt': 'only in l1',
  merged: { one: '1', shared: 'shared from l1', sub: { deep1: 'deep1' } },
  lowdir: { f: 'f', g: { h: 'h' } },
  far: { away: { 'g.txt': 'far lower' } },
};
const LAYERS = [L0, L1];
const MERGED = ['one=1', 'shared=shared from l0', 'sub/', 'sub/deep0=deep0', 'sub/deep1=deep1', 'zero=0'];
const LOWDIR = ['f=f', 'g/', 'g/h=h'];

const read = (v: View, rel: string) => readFileSync(v.p(rel), 'utf8');

/** Every entry under `rel` with a file's content, as `path=content` (a directory: `path/`). */
function tree(v: View, rel: string): string[] {
  const out: string[] = [];
  const walk = (r: string) => {
    for (const name of readdirSync(v.p(r)).sort()) {
      const child = `${r}/${name}`;
      const shown = child.slice(rel.length + 1);
      if (statSync(v.p(child)).isDirectory()) {
        out.push(`${shown}/`);
        walk(child);
      } else out.push(`${shown}=${read(v, child)}`);
    }
  };
  walk(rel);
  return out;
}

/**
 * Exchange `a` and `b`. True when the view served it; on fuse-native the call must fail EINVAL
 * (and the row then checks that nothing changed).
 */
function exchanged(v: View, a: string, b: string): boolean {
  const outcome = errno(() => renameat2(v.p(a), v.p(b), RENAME_EXCHANGE));
  if (v.variant.union && !KERNEL) {
    expect(outcome).toBe('EINVAL');
    return false;
  }
  expect(outcome).toBe('OK');
  return true;
}

/** Check `see` now and, for a union, again over a fresh daemon reading the same layers. */
async function nowAndAfterRemount(v: View, see: () => void): Promise<void> {
  see();
  if (!v.variant.union) return;
  await v.mounted!.unmount();
  await v.remount();
  see();
}

const cases: Case[] = [
  {
    title: 'two lower files swap their contents; the lower layers keep theirs',
    layers: LAYERS,
    async run(v) {
      if (!exchanged(v, 'a.txt', 'low.txt')) {
        expect(read(v, 'a.txt')).toBe('a from l0');
        return;
      }
      await nowAndAfterRemount(v, () => {
        expect(read(v, 'a.txt')).toBe('only in l1');
        expect(read(v, 'low.txt')).toBe('a from l0');
        expect(readdirSync(v.p('')).sort()).toEqual(['a.txt', 'far', 'low.txt', 'lowdir', 'merged']);
      });
    },
  },
  {
    title: 'a file and a merged directory swap: each name now shows the other, the directory whole',
    layers: LAYERS,
    async run(v) {
      if (!exchanged(v, 'low.txt', 'merged')) return;
      await nowAndAfterRemount(v, () => {
        expect(statSync(v.p('merged')).isFile()).toBe(true);
        expect(read(v, 'merged')).toBe('only in l1');
        expect(tree(v, 'low.txt')).toEqual(MERGED);
      });
    },
  },
  {
    title: 'two lower directories in different parents swap, and neither shows the other\'s lower entries',
    layers: LAYERS,
    async run(v) {
      if (!exchanged(v, 'lowdir', 'far/away')) return;
      writeFileSync(v.p('lowdir/new.txt'), 'new');
      await nowAndAfterRemount(v, () => {
        expect(tree(v, 'lowdir')).toEqual(['f.txt=far file', 'g.txt=far lower', 'new.txt=new']);
        expect(tree(v, 'far/away')).toEqual(LOWDIR);
        expect(tree(v, 'far')).toEqual(['away/', ...LOWDIR.map((e) => `away/${e}`)]);
      });
    },
  },
  {
    title: 'a new directory takes a lower directory\'s name and hides its entries; the lower one takes the new name',
    layers: LAYERS,
    async run(v) {
      mkdirSync(v.p('fresh'));
      writeFileSync(v.p('fresh/mine'), 'mine');
      if (!exchanged(v, 'fresh', 'merged')) return;
      await nowAndAfterRemount(v, () => {
        expect(tree(v, 'merged')).toEqual(['mine=mine']);
        expect(tree(v, 'fresh')).toEqual(MERGED);
      });
    },
  },
  {
    title: 'a directory swaps with a file inside its own parent\'s other child, twice: back where it began',
    layers: LAYERS,
    async run(v) {
      if (!exchanged(v, 'merged/sub', 'merged/one')) return;
      expect(read(v, 'merged/sub')).toBe('1');
      expect(tree(v, 'merged/one')).toEqual(['deep0=deep0', 'deep1=deep1']);
      expect(exchanged(v, 'merged/sub', 'merged/one')).toBe(true);
      await nowAndAfterRemount(v, () => expect(tree(v, 'merged')).toEqual(MERGED));
    },
  },
  {
    title: 'every error renameat2 documents for an exchange: a missing name, one inside the other, a bad flag mix',
    layers: LAYERS,
    run(v) {
      const ex = (a: string, b: string, flags = RENAME_EXCHANGE) => errno(() => renameat2(v.p(a), v.p(b), flags));
      // The kernel answers these before asking the filesystem: the same on fuse-native.
      expect(ex('a.txt', 'nothing')).toBe('ENOENT');
      expect(ex('nothing', 'a.txt')).toBe('ENOENT');
      expect(ex('merged', 'merged/sub')).toBe('EINVAL');
      expect(ex('merged/sub', 'merged')).toBe('EINVAL');
      expect(ex('a.txt', 'low.txt', RENAME_EXCHANGE | RENAME_NOREPLACE)).toBe('EINVAL');
      expect(read(v, 'a.txt')).toBe('a from l0');
      expect(tree(v, 'merged')).toEqual(MERGED);
    },
  },
  {
    title: 'two names of one file, or a name with itself: nothing happens',
    layers: LAYERS,
    run(v) {
      writeFileSync(v.p('one'), 'one file');
      linkSync(v.p('one'), v.p('two'));
      if (!exchanged(v, 'one', 'two')) return;
      expect(exchanged(v, 'a.txt', 'a.txt')).toBe(true);
      expect(read(v, 'one')).toBe('one file');
      expect(statSync(v.p('one')).ino).toBe(statSync(v.p('two')).ino);
      expect(read(v, 'a.txt')).toBe('a from l0');
    },
  },
];

runCases('renameat2 RENAME_EXCHANGE', cases, { kernelOpens: true });
