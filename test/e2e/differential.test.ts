// Differential test: the same operations applied to kernel overlayfs (the oracle) and to worldfs,
// over identical lower layers, must give the same outcome (errno or success) op by op and the
// same visible tree (names, types, modes, owners, sizes, contents, non-directory link counts,
// symlink targets, user.* xattrs). Hand-written scenarios first, then seeded random sequences.
// Sockets are socket nodes (mknod S_IFSOCK, what bind(2) makes); a real listener is posix-sockets.test.ts's.
// Not compared, by design: inode numbers, st_dev, timestamps, directory size and link count.
// Not exercised, by design: names starting with '.wh.' (the aufs format reserves them and answers
// EPERM, a documented property of that format), hard links inside lower layers (overlayfs without
// index=on breaks them on copy-up), and unlinking open files (libfuse's .fuse_hidden files).
// A failure names the seed or scenario and the op, and saves the ops run so far to a JSON file:
// pasted into SCENARIOS as { name, ops }, they replay the difference.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Op, OpKind } from '../helpers/fs-ops.js';
import { buildLowerLayers, LONG_NAME } from '../helpers/layer-fixture.js';
import { runLockstep, type Side } from '../helpers/lockstep.js';
import { OP_WEIGHTS, OpGenerator, viewState } from '../helpers/op-gen.js';
import { mountOverlay, unmountOverlays } from '../helpers/overlayfs.js';
import { mountWorldfs, stackDirs, tempDir, unmountAll } from '../helpers/worldfs.js';

const FORMATS = ['aufs', 'overlay'] as const;
const SEEDS = [1, 2, 3, 4, 5];
const OPS_PER_SEED = 2000;
/** 25 levels of 200-byte names. */
const DEEP = Array.from({ length: 25 }, (_, i) => `/${String(i).padStart(2, '0')}${'q'.repeat(198)}`).join('');
/** Whole-tree comparisons are the expensive part; every op's outcome is still compared. */
const CHECKPOINT_EVERY = 250;

// Shorthands for the scenario table.
const create = (path: string, data = `new ${path}\n`, mode = 0o644): Op => ({ kind: 'create', path, mode, data });
const append = (path: string, data = `+${path}\n`): Op => ({ kind: 'append', path, data });
const write = (path: string, data = `w ${path}\n`): Op => ({ kind: 'write', path, data });
const pwrite = (path: string, offset: number, data = 'PWRITE'): Op => ({ kind: 'pwrite', path, offset, data });
const truncate = (path: string, size: number): Op => ({ kind: 'truncate', path, size });
const unlink = (path: string): Op => ({ kind: 'unlink', path });
const mkdir = (path: string, mode = 0o755): Op => ({ kind: 'mkdir', path, mode });
const rmdir = (path: string): Op => ({ kind: 'rmdir', path });
const rename = (from: string, to: string): Op => ({ kind: 'rename', from, to });
const link = (from: string, to: string): Op => ({ kind: 'link', from, to });
const symlink = (path: string, target: string): Op => ({ kind: 'symlink', path, target });
const chmod = (path: string, mode: number): Op => ({ kind: 'chmod', path, mode });
const utimes = (path: string): Op => ({ kind: 'utimes', path, atime: 1_000_000, mtime: 2_000_000 });
const mkfifo = (path: string, mode = 0o644): Op => ({ kind: 'mkfifo', path, mode });
const mksock = (path: string, mode = 0o755): Op => ({ kind: 'mksock', path, mode });
const setxattr = (path: string, name: string, value: string): Op => ({ kind: 'setxattr', path, name, value });
const removexattr = (path: string, name: string): Op => ({ kind: 'removexattr', path, name });
const read = (path: string): Op => ({ kind: 'read', path });
const list = (path: string): Op => ({ kind: 'list', path });
const stat = (path: string): Op => ({ kind: 'stat', path });

const N252 = 'n'.repeat(252);
const N253 = 'm'.repeat(253);
const N254 = 'k'.repeat(254);

/** Named sequences over the fixture in ../helpers/layer-fixture.ts (l0 highest). */
const SCENARIOS: readonly { name: string; ops: readonly Op[] }[] = [
  { name: 'renames a directory that exists only in a lower layer',
    ops: [rename('/c/b', '/a/e'), list('/a/e'), list('/a/e/b'), read('/a/e/b/c'), stat('/c/b'), list('/c'), mkdir('/c/b'), list('/c/b')] },
  { name: 'renames a directory merged from three layers, then renames it back',
    ops: [rename('/a', '/e'), list('/e'), list('/e/b'), read('/e/a'), read('/e/c'), stat('/a'), list('/'), rename('/e', '/a'), list('/a/b')] },
  { name: 'renames a merged subdirectory and recreates its old name as an empty directory',
    ops: [rename('/a/b', '/x'), list('/x'), mkdir('/a/b'), list('/a/b'), create('/a/b/a'), read('/a/b/a'), read('/x/a')] },
  { name: 'renames a chain of directories, following redirects through renamed parents',
    ops: [rename('/a/b', '/c/e'), rename('/c', '/f'), list('/f/e'), rename('/f/e', '/g'), list('/g'), read('/g/c'), list('/g/d'), read('/f/a')] },
  { name: 'moves a merged directory under a directory that exists only in the top layer',
    ops: [mkdir('/d/c'), rename('/c', '/d/c/b'), list('/d/c/b'), read('/d/c/b/a'), list('/d/c/b/b'), rename('/d/c', '/e'), list('/e/b/b')] },
  { name: 'moves a lower directory into a renamed lower directory',
    ops: [rename('/c/b', '/a/d/x'), rename('/a', '/y'), list('/y/d/x'), list('/y/d/x/b'), read('/y/d/x/a'), list('/y')] },
  { name: 'renames a file over an existing lower file',
    ops: [rename('/a/a', '/b'), read('/b'), stat('/b'), stat('/a/a'), list('/a'), create('/a/a'), read('/a/a')] },
  { name: 'renames a directory over an empty directory, new or emptied lower one',
    ops: [mkdir('/e'), rename('/a/d', '/e'), list('/e'), stat('/a/d'),
      unlink('/c/b/b/c'), rename('/e', '/c/b/b'), list('/c/b/b'), read('/c/b/b/a')] },
  { name: 'refuses to rename a directory over a non-empty directory or a file',
    ops: [rename('/a/d', '/c'), rename('/a/d', '/b'), rename('/b', '/a'), rename('/c/b', '/a/b'), list('/a/d')] },
  { name: 'refuses renames into a missing parent or through a file',
    ops: [rename('/b', '/nope/b'), rename('/a', '/nope/a'), rename('/a/a', '/b/x'), rename('/nope', '/a/x'), list('/')] },
  { name: 'refuses to move a directory into its own subdirectory',
    ops: [rename('/a', '/a/b/x'), rename('/a/b', '/a/b/d/x'), rename('/a/b', '/a/b'), rename('/b', '/b/x'), list('/a/b')] },
  { name: 'hard-links a lower file and keeps both names in sync',
    ops: [link('/a/c', '/a/e'), stat('/a/c'), stat('/a/e'), append('/a/e'), read('/a/c'), chmod('/a/e', 0o600), stat('/a/c'),
      setxattr('/a/c', 'user.z', '1'), unlink('/a/c'), stat('/a/e'), read('/a/e')] },
  { name: 'hard links show the same attributes and data under every name at once',
    ops: [create('/x', 'hello'), stat('/x'), link('/x', '/y'), stat('/x'), append('/y', ' and more'), stat('/x'), read('/x'),
      chmod('/y', 0o600), stat('/x'), unlink('/y'), stat('/x')] },
  { name: 'renaming one hard link over another changes nothing',
    ops: [link('/b', '/e'), rename('/b', '/e'), stat('/b'), stat('/e'), rename('/e', '/b'), list('/')] },
  { name: 'deletes a file shadowed in three layers and creates it again',
    ops: [unlink('/b'), stat('/b'), list('/'), read('/b'), create('/b'), read('/b'), unlink('/b'), mkdir('/b'), list('/b')] },
  { name: 'removes a merged directory once emptied, and a new one there starts empty',
    ops: [unlink('/c/a'), unlink('/c/d'), unlink('/c/c'), rmdir('/c'), rename('/c/b', '/e'), list('/c'), rmdir('/c'), list('/'),
      mkdir('/c'), list('/c'), rmdir('/c'), create('/c'), read('/c')] },
  { name: 'a directory over a lower symlink hides the symlink, also once removed',
    ops: [list('/d'), stat('/d'), unlink('/d/a'), rmdir('/d'), stat('/d'), list('/'), symlink('/d', 'c'), stat('/d'), list('/d')] },
  { name: 'writes through symlinks copy the target up',
    ops: [symlink('/e', 'a/a'), append('/e'), read('/a/a'), chmod('/e', 0o640), stat('/a/a'), utimes('/e'), symlink('/a/e', 'e'),
      read('/a/e'), symlink('/f', 'f'), read('/f'), write('/f'), symlink('/g', 'nowhere/x'), write('/g')] },
  { name: 'partial writes and truncation of lower files keep the rest of the data',
    ops: [pwrite('/c/a', 100), read('/c/a'), truncate('/c/a', 50), read('/c/a'), truncate('/a/a', 1000), read('/a/a'),
      pwrite('/a/b/c', 4000), stat('/a/b/c'), truncate('/a/b/d/a', 0), stat('/a/b/d/a'), truncate('/a', 0), truncate('/c/c', 0)] },
  { name: 'chmod, utimes and xattrs on lower files, directories and fifos',
    ops: [chmod('/c/d', 0o644), stat('/c/d'), chmod('/c/b/a', 0o600), stat('/c/b/a'), utimes('/d'), stat('/d'), setxattr('/a/c', 'user.x', 'new'), removexattr('/a/c', 'user.y'), removexattr('/a/c', 'user.y'),
      setxattr('/c/c', 'user.x', '1'), chmod('/c/c', 0o600), utimes('/c/c'), setxattr('/a', 'user.z', 'dir'), removexattr('/a', 'user.layer'),
      list('/a'), chmod('/c/b/b', 0o700), utimes('/a/b/d'), setxattr('/d', 'user.q', 'l0 dir')] },
  { name: 'new entries over a whiteout in a setgid directory inherit its group and setgid bit',
    ops: [mkdir('/c/e'), stat('/c/e'), unlink('/c/d'), mkdir('/c/d'), stat('/c/d'), unlink('/c/a'), create('/c/a'), stat('/c/a'),
      unlink('/c/c'), symlink('/c/c', 'a'), stat('/c/c'), rename('/c/b', '/c/f'), mkfifo('/c/b'), stat('/c/b'), stat('/c/f/a')] },
  { name: 'fifos are created, renamed and never opened for blocking I/O',
    ops: [mkfifo('/e'), stat('/e'), read('/e'), write('/e'), mkfifo('/e'), rename('/c/c', '/f'), stat('/f'), link('/f', '/c/c'), stat('/f'), unlink('/f')] },
  { name: 'socket nodes are made, renamed, linked, chmod\'ed and unlinked; a lower one copies up as a socket',
    ops: [mksock('/e'), stat('/e'), read('/e'), write('/e'), mksock('/e'), mksock('/b'), chmod('/e', 0o700), stat('/e'), link('/e', '/a/e'),
      stat('/e'), rename('/e', '/c/e'), stat('/c/e'), stat('/c/e'), unlink('/a/e'), stat('/c/e'), list('/'),
      stat('/a/b/d/b'), chmod('/a/b/d/b', 0o604), stat('/a/b/d/b'), utimes('/a/b/d/b'), rename('/a/b/d/b', '/a/f'), stat('/a/f'),
      link('/a/f', '/a/b/d/b'), stat('/a/b/d/b'), setxattr('/a/f', 'user.x', 'no'), unlink('/a/f'), stat('/a/b/d/b'), list('/a/b/d'),
      mksock('/a/b/d/c', 0o640), rename('/a/b/d', '/g'), list('/g'), stat('/g/c'), stat('/g/b'), mkfifo('/g/b')] },
  { name: 'names of 252-255 bytes: a lower one whited out, renamed over and made again; new ones renamed onto lower names',
    ops: [stat(`/a/b/d/${LONG_NAME}`), read(`/a/b/d/${LONG_NAME}`), list('/a/b/d'), rename(`/a/b/d/${LONG_NAME}`, `/a/${N254}`), list('/a/b/d'),
      stat(`/a/b/d/${LONG_NAME}`), read(`/a/${N254}`), create(`/a/b/d/${LONG_NAME}`, 'again'), list('/a/b/d'), unlink(`/a/b/d/${LONG_NAME}`),
      list('/a/b/d'), mkdir(`/a/b/d/${LONG_NAME}`), list(`/a/b/d/${LONG_NAME}`), create(`/${N252}`), rename(`/${N252}`, '/b'), read('/b'),
      rename('/c/b', `/c/${N253}`), list(`/c/${N253}`), list('/c'), rename(`/a/${N254}`, `/c/${N253}/${LONG_NAME}`), list(`/c/${N253}`),
      create(`/${'x'.repeat(256)}`), rename('/a/b/d', `/${N253}`), list(`/${N253}`), list('/a/b')] },
  { name: 'answers the errno POSIX gives for type mismatches and existing names',
    ops: [rmdir('/b'), unlink('/a'), rmdir('/a/b/d'), mkdir('/a'), create('/a/a'), link('/a', '/e'), link('/b', '/a/a'),
      symlink('/b', 'x'), mkdir('/b/x'), create('/b/x'), read('/a'), write('/a'), rmdir('/nope'), unlink('/nope'), list('/b')] },
  { name: 'moves a file away and back over its own whiteout',
    ops: [rename('/b', '/x'), stat('/b'), create('/b'), rename('/x', '/b'), read('/b'), list('/'), rename('/a/d/a', '/a/d/b'), list('/a/d')] },
  { name: 'builds inside a lower-only directory, then renames it',
    ops: [mkdir('/a/b/d/e'), create('/a/b/d/e/f'), rename('/a/b/d', '/z'), read('/z/e/f'), read('/z/a'), list('/a/b'), rmdir('/z')] },
  { name: 'replaces a removed directory by a file and a file by a directory',
    ops: [unlink('/a/d/a'), unlink('/a/d/b'), rmdir('/a/d'), create('/a/d'), read('/a/d'), unlink('/a/c'), mkdir('/a/c'), list('/a/c'),
      rename('/a/c', '/a/d'), rename('/a/a', '/a/c'), list('/a')] },
  { name: 'renames a directory that was renamed, emptied and partly refilled',
    ops: [rename('/a/b', '/e'), unlink('/e/a'), unlink('/e/b'), create('/e/b'), rename('/e/d', '/e/a'), rename('/e', '/a/b'), list('/a/b'),
      list('/a/b/a'), read('/a/b/c'), rename('/a', '/c/b/b/x'), list('/c/b/b/x/b')] },
];

/** `count` random ops from `seed`, each drawn after looking at the oracle's view. */
function randomOps(seed: number, count: number) {
  const gen = new OpGenerator(seed);
  return { count, next: (i: number, oracleRoot: string) => gen.next(i, viewState(oracleRoot)) };
}

/**
 * Two unions over identical copies of the fixture: kernel overlayfs and worldfs. With `under`,
 * the fixture is built once in each of those directories (one per scenario) instead of at the root.
 */
async function mountPair(base: string, whiteout: string, under?: readonly string[]): Promise<{ oracle: Side; subject: Side }> {
  const k = stackDirs(join(base, 'kernel'), 3);
  buildLowerLayers(k.lowers, under);
  mountOverlay(k);
  const w = stackDirs(join(base, 'worldfs'), 3);
  buildLowerLayers(w.lowers, under);
  const m = await mountWorldfs({ ...w, whiteout });
  return { oracle: { label: 'overlayfs', root: k.mnt }, subject: { label: `worldfs(${whiteout})`, root: m.mnt } };
}

describe('the differential harness', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => { tmp = tempDir('worldos-diff-'); });
  afterEach(() => { unmountOverlays(); tmp.cleanup(); });

  it('finds kernel overlayfs in agreement with itself, and draws ops of every kind that succeed', () => {
    const mount = (name: string): Side => {
      const d = stackDirs(join(tmp.path, name), 3);
      buildLowerLayers(d.lowers);
      return { label: name, root: mountOverlay(d) };
    };
    const { ops, outcomes } = runLockstep({
      origin: 'seed 99, overlayfs against itself', ops: randomOps(99, 1000), oracle: mount('first'), subject: mount('second'),
      checkpointEvery: CHECKPOINT_EVERY,
    });
    const succeeded = new Set(ops.filter((_, i) => outcomes[i]!.startsWith('ok')).map((op) => op.kind));
    expect([...succeeded].sort()).toEqual((Object.keys(OP_WEIGHTS) as OpKind[]).sort());
  });
});

describe.each(FORMATS)('worldfs with %s whiteouts against kernel overlayfs', (whiteout) => {
  // One mount pair for all scenarios (mounting is most of a scenario's cost): each scenario runs
  // in its own directory /sN, which holds a fresh copy of the fixture, merged across the layers
  // just as the root is. Whole trees are compared once, at the end of each scenario: a walk reads
  // every file, which refreshes the kernel's attribute cache and could hide stale attributes; the
  // stat/list/read ops in the scenarios are the intermediate checks.
  // Each scenario again far past PATH_MAX (issue 12, C): its fixture, lower objects included, 25
  // levels of 200-byte names down, where every host path the daemon uses is over 5,000 bytes.
  for (const [title, dirOf] of [
    ['hand-written scenarios', (i: number) => `/s${i}`],
    ['hand-written scenarios, 5,000 bytes deep', (i: number) => `/deep${i}${DEEP}`],
  ] as const) {
    describe(title, () => {
      const dirs = SCENARIOS.map((_, i) => dirOf(i));
      let tmp: ReturnType<typeof tempDir>;
      let sides: { oracle: Side; subject: Side };
      beforeAll(async () => {
        tmp = tempDir('worldos-diff-');
        sides = await mountPair(tmp.path, whiteout, dirs);
      });
      afterAll(async () => {
        unmountOverlays();
        await unmountAll();
        tmp.cleanup();
      });

      it.each(SCENARIOS.map((s, i) => ({ ...s, dir: dirs[i]! })))('$name', ({ name, ops, dir }) => {
        const within = (s: Side): Side => ({ label: s.label, root: s.root + dir });
        runLockstep({
          origin: `scenario "${name}", whiteout=${whiteout}, in ${dir.slice(0, 20)}`,
          ops, oracle: within(sides.oracle), subject: within(sides.subject), checkpointEvery: ops.length,
        });
      });
    });
  }

  describe('random sequences', () => {
    let tmp: ReturnType<typeof tempDir>;
    beforeEach(() => { tmp = tempDir('worldos-diff-'); });
    afterEach(async () => {
      unmountOverlays();
      await unmountAll();
      tmp.cleanup();
    });

    it.each(SEEDS)(`agrees op by op on ${OPS_PER_SEED} random operations from seed %i`, async (seed) => {
      const sides = await mountPair(tmp.path, whiteout);
      runLockstep({ origin: `seed ${seed}, whiteout=${whiteout}`, ops: randomOps(seed, OPS_PER_SEED), ...sides, checkpointEvery: CHECKPOINT_EVERY });
    });
  });
});
