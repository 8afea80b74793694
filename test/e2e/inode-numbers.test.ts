// st_ino through a worldfs view (src/host/inode-origin.ts): kept across copy-up of every kind of
// object, across rename and across a second copy-up in a child world's view; one number per hard
// link and overlayfs's nlink rule; never one number for two objects, even when the origin is
// deleted and ext4 hands its number to a new file. Kernel overlayfs is the oracle where it has a say.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  appendFileSync, chmodSync, existsSync, lchownSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync,
  symlinkSync, unlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountOverlay, unmountOverlays } from '../helpers/overlayfs.js';
import { mountWorldfs, stackDirs, tempDir, unmountAll } from '../helpers/worldfs.js';

const ino = (p: string) => lstatSync(p, { bigint: true }).ino;
const KERNEL = process.env.WORLDFS_TRANSPORT === 'kernel';

/** Every view number under `root` with the paths showing it (directories included). */
function numbersUnder(root: string): Map<bigint, string[]> {
  const out = new Map<bigint, string[]>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const r = rel === '' ? name : rel + '/' + name;
      const st = lstatSync(join(root, r), { bigint: true });
      out.set(st.ino, [...(out.get(st.ino) ?? []), r]);
      if (st.isDirectory()) walk(r);
    }
  };
  walk('');
  return out;
}

/** Paths that share a number: must be names of one hard-linked file (`links`), nothing else. */
function sharedNumbers(root: string): string[][] {
  return [...numbersUnder(root).values()].filter((paths) => paths.length > 1);
}

/** The lower tree most tests start from: one object of every kind. */
function writeKinds(l: string) {
  writeFileSync(join(l, 'f'), 'f');
  mkdirSync(join(l, 'd'));
  writeFileSync(join(l, 'd', 'x'), 'x');
  symlinkSync('f', join(l, 's'));
  execFileSync('mkfifo', [join(l, 'p')]);
}

/** Change each kind through `root` so that it is copied up. */
function touchKinds(root: string) {
  appendFileSync(join(root, 'f'), '+');
  writeFileSync(join(root, 'd', 'new'), 'new');
  lchownSync(join(root, 's'), 1, 1);
  chmodSync(join(root, 'p'), 0o600);
}

const KINDS = ['f', 'd', 's', 'p'] as const;
/** Changes made to a lower layer behind the view's back show at once: nothing cached, none reported (reported ones show promptly, not synchronously). */
const UNCACHED = ['timeout=0', 'notify=none'];

for (const whiteout of ['aufs', 'overlay'] as const) {
  describe(`st_ino through worldfs (${whiteout} whiteouts)`, () => {
    let tmp: ReturnType<typeof tempDir>;
    beforeEach(() => { tmp = tempDir('worldos-ino-'); });
    afterEach(async () => {
      try {
        await unmountAll();
        unmountOverlays();
      } finally {
        tmp.cleanup();
      }
    });

    const mount = (lowers: readonly string[], upper: string, work: string, mnt: string, options: string[] = []) =>
      mountWorldfs({ lowers, upper, work, mnt, whiteout, options });

    it('keeps the number of a copied-up file, directory, symlink and fifo', async () => {
      const s = stackDirs(tmp.path, 1);
      writeKinds(s.lowers[0]!);
      await mount(s.lowers, s.upper, s.work, s.mnt);
      const before = Object.fromEntries(KINDS.map((k) => [k, ino(join(s.mnt, k))]));
      touchKinds(s.mnt);
      for (const k of KINDS) expect(existsSync(join(s.upper, k)), `${k} was copied up`).toBe(true);
      const after = Object.fromEntries(KINDS.map((k) => [k, ino(join(s.mnt, k))]));
      // A symlink or a fifo cannot carry a user.* xattr: with aufs their records are in the layer's table.
      for (const k of KINDS) expect(after[k], `st_ino of ${k}`).toBe(before[k]);
      expect(sharedNumbers(s.mnt)).toEqual([]);
    });

    it('matches kernel overlayfs, whose numbers also survive copy-up (the oracle)', async () => {
      if (whiteout !== 'overlay') return;
      const s = stackDirs(join(tmp.path, 'wfs'), 1);
      const o = stackDirs(join(tmp.path, 'ovl'), 1);
      writeKinds(s.lowers[0]!);
      writeKinds(o.lowers[0]!);
      await mount(s.lowers, s.upper, s.work, s.mnt);
      mountOverlay({ lowers: o.lowers, upper: o.upper, work: o.work, mnt: o.mnt });
      const kept = (root: string) => {
        const before = KINDS.map((k) => ino(join(root, k)));
        touchKinds(root);
        return KINDS.map((k, i) => [k, ino(join(root, k)) === before[i]]);
      };
      expect(kept(s.mnt)).toEqual(kept(o.mnt));
      expect(kept(o.mnt).every(([, same]) => same)).toBe(true);
    });

    it('keeps the number across rename, after copy-up and when the rename copies up', async () => {
      const s = stackDirs(tmp.path, 1);
      const l = s.lowers[0]!;
      for (const n of ['a', 'b']) writeFileSync(join(l, n), n);
      mkdirSync(join(l, 'd'));
      writeFileSync(join(l, 'd', 'y'), 'y');
      const p = (n: string) => join(s.mnt, n);
      symlinkSync('a', join(l, 'd', 'ln'));
      execFileSync('mkfifo', [join(l, 'fifo')]);
      await mount(s.lowers, s.upper, s.work, s.mnt);
      const before = { a: ino(p('a')), b: ino(p('b')), d: ino(p('d')), y: ino(p('d/y')), ln: ino(p('d/ln')), fifo: ino(p('fifo')) };
      appendFileSync(p('a'), '+');
      renameSync(p('a'), p('a2'));
      renameSync(p('b'), p('b2'));
      renameSync(p('d/ln'), p('ln2'));                 // a symlink to another directory (copies up)
      renameSync(p('fifo'), p('d/fifo2'));
      renameSync(p('d'), p('d2'));
      expect({ a: ino(p('a2')), b: ino(p('b2')), d: ino(p('d2')), y: ino(p('d2/y')), ln: ino(p('ln2')), fifo: ino(p('d2/fifo2')) })
        .toEqual(before);
      // A new file where the origin was is another object: never the origin's number twice.
      writeFileSync(p('a'), 'new a');
      expect(ino(p('a'))).not.toBe(ino(p('a2')));
      expect(sharedNumbers(s.mnt)).toEqual([]);
    });

    it('gives every name of a hard link one number, and a copied-up lower hard link a number of its own (as overlayfs)', async () => {
      const s = stackDirs(join(tmp.path, 'wfs'), 1);
      const o = stackDirs(join(tmp.path, 'ovl'), 1);
      for (const l of [s.lowers[0]!, o.lowers[0]!]) {
        for (const [a, b] of [['k1', 'k2'], ['h1', 'h2']]) {
          writeFileSync(join(l, a!), a!);
          linkSync(join(l, a!), join(l, b!));
        }
        writeFileSync(join(l, 'c'), 'c');
      }
      await mount(s.lowers, s.upper, s.work, s.mnt);
      const roots = whiteout === 'overlay' ? [s.mnt, mountOverlay({ lowers: o.lowers, upper: o.upper, work: o.work, mnt: o.mnt })] : [s.mnt];
      for (const root of roots) {
        const p = (n: string) => join(root, n);
        expect(ino(p('k2')), root).toBe(ino(p('k1')));
        // Both names known to the kernel before the write: each must stay its own object.
        const h = ino(p('h1'));
        expect(ino(p('h2')), root).toBe(h);
        const c = ino(p('c'));
        appendFileSync(p('h1'), '+');          // breaks the lower link: two files now
        expect(ino(p('h2')), root).toBe(h);
        expect(ino(p('h1')), root).not.toBe(h);
        expect([readFileSync(p('h1'), 'utf8'), readFileSync(p('h2'), 'utf8')], root).toEqual(['h1+', 'h1']);
        linkSync(p('c'), p('c2'));              // copy-up of a one-link file, then a link in the upper
        expect([ino(p('c')), ino(p('c2'))], root).toEqual([c, c]);
      }
      expect(sharedNumbers(s.mnt).map((names) => names.sort().join(' ')).sort()).toEqual(['c c2', 'k1 k2']);
    });

    it('keeps the original number through a child world\'s second copy-up', async () => {
      const base = join(tmp.path, 'base');
      const w1 = stackDirs(join(tmp.path, 'w1'), 0);
      const w2 = stackDirs(join(tmp.path, 'w2'), 0);
      mkdirSync(join(base, 'd'), { recursive: true });
      for (const n of ['f', 'g', 'd/z']) writeFileSync(join(base, n), n);
      const parent = await mount([base], w1.upper, w1.work, w1.mnt);
      const before = { f: ino(join(w1.mnt, 'f')), g: ino(join(w1.mnt, 'g')), d: ino(join(w1.mnt, 'd')) };
      appendFileSync(join(w1.mnt, 'f'), '+');
      chmodSync(join(w1.mnt, 'd'), 0o750);
      await parent.unmount();
      await mount([w1.upper, base], w2.upper, w2.work, w2.mnt);
      const p = (n: string) => join(w2.mnt, n);
      expect({ f: ino(p('f')), g: ino(p('g')), d: ino(p('d')) }).toEqual(before);
      appendFileSync(p('f'), '+');              // from the parent's layer into the child's
      appendFileSync(p('g'), '+');              // from the base straight into the child's
      chmodSync(p('d'), 0o700);
      expect(existsSync(join(w2.upper, 'f')) && existsSync(join(w2.upper, 'g'))).toBe(true);
      expect({ f: ino(p('f')), g: ino(p('g')), d: ino(p('d')) }).toEqual(before);
      renameSync(p('f'), p('f2'));
      expect(ino(p('f2'))).toBe(before.f);
      expect(sharedNumbers(w2.mnt)).toEqual([]);
    });

    it('never shows a deleted origin\'s number twice when ext4 gives it to a new lower file', async () => {
      const s = stackDirs(tmp.path, 1);
      const l = s.lowers[0]!;
      writeFileSync(join(l, 'o'), 'origin');
      writeFileSync(join(l, 'keep'), 'keep');
      await mount(s.lowers, s.upper, s.work, s.mnt, UNCACHED);
      const n = ino(join(s.mnt, 'o'));
      appendFileSync(join(s.mnt, 'o'), '+');
      expect(ino(join(s.mnt, 'o'))).toBe(n);
      // The parent world deletes the origin, then creates files until one gets its number.
      unlinkSync(join(l, 'o'));
      let reused: string | undefined;
      for (let i = 0; i < 5000 && reused === undefined; i++) {
        writeFileSync(join(l, `r${i}`), 'r');
        if (ino(join(l, `r${i}`)) === n) reused = `r${i}`;
      }
      expect(ino(join(s.mnt, 'o')), 'the copy no longer claims a number its origin gave up').not.toBe(n);
      if (reused !== undefined) expect(ino(join(s.mnt, reused)), 'the new file shows its own number').toBe(n);
      expect(sharedNumbers(s.mnt)).toEqual([]);
    });

    it('gives the number back to the origin when it shows elsewhere in the view: renamed or hard-linked below', async () => {
      const s = stackDirs(tmp.path, 1);
      const l = s.lowers[0]!;
      writeFileSync(join(l, 'o'), 'origin');
      await mount(s.lowers, s.upper, s.work, s.mnt, UNCACHED);
      const p = (n: string) => join(s.mnt, n);
      const n = ino(p('o'));
      appendFileSync(p('o'), '+');
      renameSync(join(l, 'o'), join(l, 'moved'));           // behind the view's back
      expect(ino(p('moved'))).toBe(n);
      expect(ino(p('o'))).not.toBe(n);
      renameSync(join(l, 'moved'), join(l, 'o'));           // back in place, hidden again
      expect(ino(p('o'))).toBe(n);
      linkSync(join(l, 'o'), join(l, 'o2'));                 // a second name shows the origin
      expect(ino(p('o2'))).toBe(n);
      expect(ino(p('o'))).not.toBe(n);
      expect(sharedNumbers(s.mnt)).toEqual([]);
    });

    it('keeps the origin record out of sight: not listed, not readable, not settable through the view', async () => {
      const s = stackDirs(tmp.path, 1);
      writeFileSync(join(s.lowers[0]!, 'f'), 'f');
      await mount(s.lowers, s.upper, s.work, s.mnt);
      appendFileSync(join(s.mnt, 'f'), '+');
      const name = whiteout === 'aufs' ? 'user.worldos.origin' : 'trusted.overlay.worldos.origin';
      const onHost = spawnSync('getfattr', ['--absolute-names', '-n', name, join(s.upper, 'f')], { encoding: 'utf8' });
      expect(onHost.stdout, 'the upper copy carries the record').toContain(name);
      const listed = spawnSync('getfattr', ['--absolute-names', '-d', '-m', '-', join(s.mnt, 'f')], { encoding: 'utf8' });
      expect(listed.stdout).not.toContain('worldos.origin');
      expect(spawnSync('getfattr', ['-n', name, join(s.mnt, 'f')]).status).not.toBe(0);
      expect(spawnSync('setfattr', ['-n', name, '-v', 'x', join(s.mnt, 'f')]).status).not.toBe(0);
    });

    it('keeps objects of a lower layer on another filesystem apart from the top layer\'s (xino)', async () => {
      if (!KERNEL) return; // fuse-native's stat array carries 32 bits of st_ino: the filesystem index is lost
      const s = stackDirs(tmp.path, 0);
      const lower = join('/dev/shm', `worldos-ino-${process.pid}-${Date.now()}`); // tmpfs: another device
      mkdirSync(lower);
      try {
        writeFileSync(join(lower, 'far'), 'far');
        writeFileSync(join(s.upper, 'near'), 'near');
        await mount([lower], s.upper, s.work, s.mnt);
        expect(ino(join(s.mnt, 'near'))).toBe(ino(join(s.upper, 'near')));
        expect(ino(join(s.mnt, 'far'))).toBe((1n << 40n) | ino(join(lower, 'far')));
        appendFileSync(join(s.mnt, 'far'), '+');
        expect(ino(join(s.mnt, 'far'))).toBe((1n << 40n) | ino(join(lower, 'far')));
        await unmountAll();
      } finally {
        execFileSync('rm', ['-rf', lower]);
      }
    });
  });
}
