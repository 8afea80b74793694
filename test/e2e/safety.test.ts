// Safety of a worldfs view: symlinks inside layers are shown as symlinks and resolved by the kernel
// in the view, never followed by the daemon on the host; a lower directory swapped for a symlink to
// an outside directory while mounted never exposes that directory; and only the upper layer is ever
// written (the table runner fingerprints every lower layer and `outside` around every test).
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, statSync, symlinkSync, unlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { expect } from 'vitest';
import { fingerprint } from './support/snapshot.js';
import { symlink } from './support/tree.js';
import { errno, runCases, UNION_ONLY, type Case, type View } from './support/views.js';

const SECRET = 'SECRET-MARKER-7f3a9c';
const OUTSIDE = { secret: SECRET, file: `outside ${SECRET}`, sub: { deeper: SECRET } };

/** `root/rel` without normalising '..' away (path.join would resolve it lexically, not the kernel). */
const raw = (v: View, rel: string) => `${v.root}/${rel}`;

/** Where the kernel resolves a relative symlink target written at `rel` inside the view. */
const inView = (v: View, rel: string, target: string) => resolve(v.p(rel), '..', target);

/** All file contents under a host directory, concatenated (to look for the secret). */
function allContent(dir: string): string {
  let out = '';
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = lstatSync(p);
    if (st.isDirectory()) out += allContent(p);
    else if (st.isFile()) out += readFileSync(p, 'utf8');
    else if (st.isSymbolicLink()) out += readlinkSync(p);
  }
  return out;
}

const SWAPPER = `
const fs = require('fs');
const [ms, ...paths] = process.argv.slice(1);
const pairs = [];
for (let i = 0; i < paths.length; i += 3) pairs.push(paths.slice(i, i + 3));
const pause = new Int32Array(new SharedArrayBuffer(4));
const end = Date.now() + Number(ms);
let n = 0;
while (Date.now() < end) {
  for (const [p, real, sym] of pairs) { fs.renameSync(p, real); fs.renameSync(sym, p); }
  Atomics.wait(pause, 0, 0, 1);
  for (const [p, real, sym] of pairs) { fs.renameSync(p, sym); fs.renameSync(real, p); }
  Atomics.wait(pause, 0, 0, 1);
  n++;
}
process.stdout.write(String(n));
`;

const cases: Case[] = [
  {
    title: 'a lower symlink to /etc is shown as a symlink, and following it is the kernel\'s business',
    layers: [{ etc: symlink('/etc'), d: { up: symlink('../etc/..') } }],
    run(v) {
      expect(lstatSync(v.p('etc')).isSymbolicLink()).toBe(true);
      expect(readlinkSync(v.p('etc'))).toBe('/etc');
      expect(readlinkSync(v.p('d/up'))).toBe('../etc/..');
      // What the kernel reaches by following the links is what it reaches from a plain directory.
      expect(readdirSync(v.p('etc')).sort()).toEqual(readdirSync('/etc').sort());
      expect(readFileSync(v.p('etc/hostname'), 'utf8')).toBe(readFileSync('/etc/hostname', 'utf8'));
      expect(readdirSync(raw(v, 'etc/..')).sort()).toEqual(readdirSync('/').sort());
      expect(readdirSync(v.p('d/up')).sort()).toEqual(readdirSync('/').sort());
      expect(readdirSync(v.p()).sort()).toEqual(['d', 'etc']);
    },
  },
  {
    title: 'relative symlinks in a lower layer resolve in the view, not in the layer that holds them',
    layers: [
      { target: { t: 'view copy' }, 'top.txt': 'top' },
      { sub: { lnk: symlink('../target') }, target: { t: 'l1 copy', only1: 'l1 only' } },
    ],
    run(v) {
      unlinkSync(v.p('target/only1'));
      expect(readFileSync(v.p('sub/lnk/t'), 'utf8')).toBe('view copy');
      expect(errno(() => readFileSync(v.p('sub/lnk/only1')))).toBe('ENOENT');
      expect(readdirSync(v.p('sub/lnk'))).toEqual(['t']);
      expect(readdirSync(raw(v, 'sub/lnk/..')).sort()).toEqual(['sub', 'target', 'top.txt']);
      expect(readFileSync(raw(v, 'sub/lnk/../top.txt'), 'utf8')).toBe('top');
      writeFileSync(v.p('sub/lnk/t'), 'written through the link');
      expect(readFileSync(v.p('target/t'), 'utf8')).toBe('written through the link');
      expect(lstatSync(v.p('sub/lnk')).isSymbolicLink()).toBe(true);
    },
  },
  {
    title: 'a symlink that climbs out of its layer resolves against the view and never reaches the directory beside the layer',
    layers: [{}, { esc: symlink('../../outside'), deep: { esc2: symlink('../../../outside/secret') }, wlink: symlink('../../outside/file') }],
    outside: OUTSIDE,
    run(v) {
      const there = inView(v, 'esc', '../../outside');
      expect(existsSync(there), `${there} must not exist for this test to mean anything`).toBe(false);
      expect(lstatSync(v.p('esc')).isSymbolicLink()).toBe(true);
      expect(readlinkSync(v.p('esc'))).toBe('../../outside');
      expect(errno(() => readdirSync(v.p('esc')))).toBe('ENOENT');
      expect(errno(() => readFileSync(v.p('esc/secret')))).toBe('ENOENT');
      expect(errno(() => readFileSync(v.p('deep/esc2')))).toBe('ENOENT');
      expect(errno(() => statSync(v.p('esc/sub/deeper')))).toBe('ENOENT');
      expect(errno(() => writeFileSync(v.p('wlink'), 'overwrite?'))).toBe('ENOENT');
      expect(readdirSync(v.p()).sort()).toEqual(['deep', 'esc', 'wlink']);
      expect(readFileSync(join(v.outside, 'file'), 'utf8')).toBe(`outside ${SECRET}`);
    },
  },
  {
    title: 'lower directories swapped for symlinks to an outside directory while mounted never expose it',
    layers: [
      { n: { d2: { file: 'lower content 2' } } },
      { d: { file: 'lower content', keep: 'k' } },
    ],
    outside: OUTSIDE,
    only: UNION_ONLY,
    async run(v, env) {
      const stash = join(v.base, 'stash');
      mkdirSync(stash);
      const swapped = [
        [join(v.lowers[1]!, 'd'), join(stash, 'd.real'), join(stash, 'd.sym'), '../../outside'],
        [join(v.lowers[0]!, 'n/d2'), join(stash, 'd2.real'), join(stash, 'd2.sym'), '../../../outside'],
      ] as const;
      for (const [, , sym, target] of swapped) symlinkSync(target, sym);
      // Each symlink, where it is swapped in, points at <base>/outside on the host.
      expect(resolve(v.lowers[1]!, '../../outside')).toBe(v.outside);
      expect(resolve(v.lowers[0]!, 'n', '../../../outside')).toBe(v.outside);
      const before = fingerprint(v.lowers[0]!).concat(fingerprint(v.lowers[1]!));

      const swapper = env.spawnTracked(process.execPath, ['-e', SWAPPER, '2000', ...swapped.flatMap(([p, r, s]) => [p, r, s])]);
      let swaps = '';
      swapper.stdout!.on('data', (d: Buffer) => { swaps += d.toString(); });
      const swapperDone = new Promise<void>((r) => swapper.once('exit', () => r()));

      const leaks: string[] = [];
      const note = (what: string) => { if (leaks.length < 20) leaks.push(what); };
      const attempt = <T>(fn: () => T): T | undefined => { try { return fn(); } catch { return undefined; } };
      let goodReads = 0;
      const end = Date.now() + 2000;
      for (let i = 0; Date.now() < end; i++) {
        for (const [dir, content] of [['d', 'lower content'], ['n/d2', 'lower content 2']] as const) {
          const names = attempt(() => readdirSync(v.p(dir)));
          if (names?.some((n) => n === 'secret' || n === 'sub')) note(`readdir ${dir} listed ${names.join(',')}`);
          const text = attempt(() => readFileSync(v.p(`${dir}/file`), 'utf8'));
          if (text !== undefined && text !== content) note(`read ${dir}/file gave ${JSON.stringify(text)}`);
          if (text === content) goodReads++;
          const secret = attempt(() => readFileSync(v.p(`${dir}/secret`), 'utf8'));
          if (secret !== undefined) note(`read ${dir}/secret gave ${JSON.stringify(secret)}`);
          if (attempt(() => statSync(v.p(`${dir}/sub/deeper`)))) note(`stat ${dir}/sub/deeper succeeded`);
        }
        if (i % 20 === 0) {
          attempt(() => writeFileSync(v.p(`n/d2/new${i}`), 'x'));
          attempt(() => writeFileSync(v.p('n/d2/file'), 'lower content 2'));
        }
      }
      await swapperDone;
      // The swapper put every directory back: apart from the renamed entries and their parents,
      // the lower layers hold exactly what they held. Later checks compare against this state.
      const strip = (lines: string[]) => lines.filter((l) => !/^(\.|d|n|n\/d2) /.test(l));
      const after = fingerprint(v.lowers[0]!).concat(fingerprint(v.lowers[1]!));
      v.rebaseline();
      expect.soft(Number(swaps), 'swaps done while reading').toBeGreaterThan(10);
      expect.soft(goodReads, 'reads that reached the real lower directory').toBeGreaterThan(0);
      expect.soft(leaks, 'what the view showed of the outside directory').toEqual([]);
      expect.soft(allContent(v.upper), 'the upper layer').not.toContain(SECRET);
      expect.soft(strip(after)).toEqual(strip(before));
      expect(v.mounted!.proc.exitCode, 'the daemon is still running').toBe(null);
      // The kernel may still hold, for up to the entry timeout (1 s, docs/whiteouts.md), an inode
      // of the type it saw mid-swap (a symlink); once that expires the view shows the directory.
      let listed: string[] | string = 'never listed';
      for (const end = Date.now() + 10_000; Date.now() < end;) {
        try {
          listed = readdirSync(v.p('d')).sort();
          break;
        } catch (e) {
          listed = String((e as NodeJS.ErrnoException).code);
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      expect(listed).toEqual(['file', 'keep']);
    },
  },
];

runCases('worldfs safety', cases);
