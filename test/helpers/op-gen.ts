// Random operation sequences for differential tests. A sequence is a pure function of its seed
// (and of the starting paths), never of what a filesystem answered, so `generateOps(seed, n)`
// replays any failure exactly. Paths come from a small pool (names a-d, depth <= 3) plus every
// path seen so far, so operations collide often: renames over existing entries, into their own
// subdirectories, under missing parents; links to lower files; writes through symlinks.
import type { Op, OpKind } from './fs-ops.js';
import { Prng } from './prng.js';

export const NAMES = ['a', 'b', 'c', 'd'] as const;

/** Every path of depth 1..maxDepth made of NAMES ('/a', '/a/b', ...). */
export function poolPaths(maxDepth = 3): string[] {
  let level = [''];
  const out: string[] = [];
  for (let d = 1; d <= maxDepth; d++) {
    level = level.flatMap((p) => NAMES.map((n) => `${p}/${n}`));
    out.push(...level);
  }
  return out;
}

/** Relative targets only, and none with '..': a symlink must never lead out of the mount. */
const SYMLINK_TARGETS = ['a', 'b', 'c', 'd', 'a/b', 'b/c', 'c/d', 'nowhere', '.'];
const FILE_MODES = [0o644, 0o600, 0o755, 0o666];
const DIR_MODES = [0o755, 0o700, 0o750, 0o777];
const CHMOD_MODES = [0o644, 0o600, 0o755, 0o700, 0o444, 0o640, 0o000, 0o4755, 0o2755, 0o1777];
const XATTR_NAMES = ['user.a', 'user.b', 'user.x'];
const TRUNCATE_SIZES = [0, 1, 7, 100, 300, 5000];

/** Relative frequency of each kind of operation. */
export const OP_WEIGHTS: Readonly<Record<OpKind, number>> = {
  create: 7, write: 7, append: 5, pwrite: 4, truncate: 5,
  unlink: 8, mkdir: 8, rmdir: 6, rename: 16, link: 5, symlink: 5,
  chmod: 5, utimes: 3, mkfifo: 1.5, setxattr: 4, removexattr: 2,
  read: 4, list: 3, stat: 3,
};

/** `count` random operations from `seed`, over the pool plus `startPaths` (e.g. the lower layers' paths). */
export function generateOps(seed: number, count: number, startPaths: readonly string[]): Op[] {
  const r = new Prng(seed);
  const pool = poolPaths();
  const known: string[] = [...new Set(startPaths)];
  const seen = new Set(known);
  const remember = (p: string) => {
    if (!seen.has(p)) { seen.add(p); known.push(p); }
    return p;
  };
  const byDepth = [1, 2, 3].map((d) => pool.filter((p) => p.split('/').length - 1 === d));
  const pick = (): string => {
    if (r.chance(0.5)) return r.pick(known);
    return r.pick(byDepth[Number(r.weighted({ 0: 25, 1: 40, 2: 35 }))]!);
  };
  const data = (i: number): string => {
    const len = r.chance(0.8) ? r.int(64) : r.int(6000);
    const unit = `${i}${'abcdefghij'[r.int(10)]}`;
    return unit.repeat(Math.ceil(len / unit.length)).slice(0, len);
  };

  const ops: Op[] = [];
  for (let i = 0; i < count; i++) {
    const kind = r.weighted(OP_WEIGHTS);
    switch (kind) {
      case 'create': ops.push({ kind, path: remember(pick()), mode: r.pick(FILE_MODES), data: data(i) }); break;
      case 'write': case 'append': ops.push({ kind, path: remember(pick()), data: data(i) }); break;
      case 'pwrite': ops.push({ kind, path: pick(), offset: r.int(300), data: data(i) }); break;
      case 'truncate': ops.push({ kind, path: pick(), size: r.pick(TRUNCATE_SIZES) }); break;
      case 'unlink': case 'rmdir': case 'read': case 'list': case 'stat': ops.push({ kind, path: pick() }); break;
      case 'mkdir': ops.push({ kind, path: remember(pick()), mode: r.pick(DIR_MODES) }); break;
      case 'mkfifo': ops.push({ kind, path: remember(pick()), mode: r.pick(FILE_MODES) }); break;
      case 'rename': {
        const from = pick();
        // Sometimes into its own subtree (EINVAL for a directory, ENOTDIR for a file).
        const to = r.chance(0.1) ? `${from}/${r.pick(NAMES)}` : pick();
        ops.push({ kind, from, to: remember(to) });
        break;
      }
      case 'link': ops.push({ kind, from: pick(), to: remember(pick()) }); break;
      case 'symlink': ops.push({ kind, target: r.pick(SYMLINK_TARGETS), path: remember(pick()) }); break;
      case 'chmod': ops.push({ kind, path: pick(), mode: r.pick(CHMOD_MODES) }); break;
      case 'utimes': ops.push({ kind, path: pick(), atime: 1_000_000 + r.int(1e6), mtime: 1_000_000 + r.int(1e6) }); break;
      case 'setxattr': ops.push({ kind, path: pick(), name: r.pick(XATTR_NAMES), value: `v${i}` }); break;
      case 'removexattr': ops.push({ kind, path: pick(), name: r.pick(XATTR_NAMES) }); break;
    }
  }
  return ops;
}
