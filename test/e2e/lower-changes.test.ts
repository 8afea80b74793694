// Lower layers changed behind a mounted view's back (default udba=reval, 1 s cache timeout): new,
// removed and rewritten lower files show up in the view within a bounded time. We poll for up to
// 5 s and assert the outcome, never how long it took. worldfs only: a plain directory has no layers.
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import type { Tree } from './support/tree.js';
import { errno, eventually, runCases, UNION_ONLY, type Case } from './support/views.js';

const LAYERS: Tree[] = [
  { merged: { zero: '0' }, 'top.txt': 'top' },
  { merged: { one: '1' }, 'old.txt': 'old', lowdir: { f: 'f' } },
];

const cases: Case[] = [
  {
    title: 'a file added to a lower layer appears in the view, even after the name was looked up as missing',
    layers: LAYERS,
    only: UNION_ONLY,
    async run(v) {
      expect(errno(() => statSync(v.p('merged/added')))).toBe('ENOENT'); // a negative lookup to outlive
      expect(readdirSync(v.p('merged')).sort()).toEqual(['one', 'zero']);
      writeFileSync(join(v.lowers[1]!, 'merged/added'), 'behind the back');
      writeFileSync(join(v.lowers[0]!, 'new-top'), 'new top');
      mkdirSync(join(v.lowers[1]!, 'newdir'));
      writeFileSync(join(v.lowers[1]!, 'newdir/inner'), 'inner');
      v.rebaseline();
      expect(await eventually(() => existsSync(v.p('merged/added')))).toBe(true);
      expect(await eventually(() => readdirSync(v.p('merged')).includes('added'))).toBe(true);
      expect(readFileSync(v.p('merged/added'), 'utf8')).toBe('behind the back');
      expect(await eventually(() => existsSync(v.p('new-top')))).toBe(true);
      expect(readFileSync(v.p('new-top'), 'utf8')).toBe('new top');
      expect(await eventually(() => existsSync(v.p('newdir/inner')))).toBe(true);
      expect(readFileSync(v.p('newdir/inner'), 'utf8')).toBe('inner');
    },
  },
  {
    title: 'a file removed from a lower layer disappears from the view',
    layers: LAYERS,
    only: UNION_ONLY,
    async run(v) {
      expect(readFileSync(v.p('old.txt'), 'utf8')).toBe('old');
      expect(readdirSync(v.p('lowdir'))).toEqual(['f']);
      rmSync(join(v.lowers[1]!, 'old.txt'));
      rmSync(join(v.lowers[1]!, 'lowdir/f'));
      v.rebaseline();
      expect(await eventually(() => !existsSync(v.p('old.txt')))).toBe(true);
      expect(errno(() => readFileSync(v.p('old.txt')))).toBe('ENOENT');
      expect(await eventually(() => !readdirSync(v.p()).includes('old.txt'))).toBe(true);
      expect(await eventually(() => readdirSync(v.p('lowdir')).length === 0)).toBe(true);
    },
  },
  {
    title: 'a lower file rewritten with a new size is read whole through the view',
    layers: LAYERS,
    only: UNION_ONLY,
    async run(v) {
      expect(readFileSync(v.p('merged/one'), 'utf8')).toBe('1');
      writeFileSync(join(v.lowers[1]!, 'merged/one'), 'one, rewritten');
      v.rebaseline();
      expect(await eventually(() => statSync(v.p('merged/one')).size === 14)).toBe(true);
      expect(readFileSync(v.p('merged/one'), 'utf8')).toBe('one, rewritten');
    },
  },
  {
    title: 'a file added to a lower layer under a name deleted in the view stays hidden',
    layers: LAYERS,
    only: UNION_ONLY,
    async run(v) {
      rmSync(v.p('merged/one'));
      writeFileSync(join(v.lowers[0]!, 'merged/one'), 'resurrected?');
      writeFileSync(join(v.lowers[0]!, 'merged/marker'), 'm');
      v.rebaseline();
      // Once a change made at the same moment shows, the other one has been seen too.
      expect(await eventually(() => readdirSync(v.p('merged')).includes('marker'))).toBe(true);
      expect(readdirSync(v.p('merged')).sort()).toEqual(['marker', 'zero']);
      expect(errno(() => statSync(v.p('merged/one')))).toBe('ENOENT');
    },
  },
];

runCases('worldfs lower-layer changes while mounted', cases);
