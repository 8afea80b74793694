// Random operation sequences for differential tests, drawn from a seeded PRNG. Paths come from a
// small pool (names a-d, depth <= 3), from what exists now in the oracle's view, from children of
// existing directories and from every path named before, so operations collide often: renames
// over existing entries, into their own subdirectories, under missing parents; links to lower
// files; writes through symlinks. The n-th op depends only on the seed and on the oracle's view
// after ops 0..n-1, so one seed replays the same sequence against the same oracle.
import { readdirSync } from 'node:fs';
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

/**
 * Paths deeper than this are left alone (renames can still move a subtree further down): every
 * FUSE request resolves its whole path, and a shallow tree keeps ops colliding.
 */
const MAX_DEPTH = 4;
const depth = (p: string) => p.split('/').length - 1;

/** What exists in a view: directories (without the root) and everything else, sorted. */
export interface ViewState {
  readonly dirs: readonly string[];
  readonly nondirs: readonly string[];
}

/** The paths up to MAX_DEPTH that exist under `root` now (readdir only, never following symlinks). */
export function viewState(root: string): ViewState {
  const dirs: string[] = [];
  const nondirs: string[] = [];
  const walk = (rel: string) => {
    for (const d of readdirSync(root + rel, { withFileTypes: true }).sort((x, y) => (x.name < y.name ? -1 : 1))) {
      const p = `${rel}/${d.name}`;
      if (d.isDirectory()) {
        dirs.push(p);
        if (depth(p) < MAX_DEPTH) walk(p);
      } else {
        nondirs.push(p);
      }
    }
  };
  walk('');
  return { dirs, nondirs };
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
  unlink: 8, mkdir: 8, rmdir: 6, rename: 18, link: 5, symlink: 5,
  chmod: 5, utimes: 3, mkfifo: 1.5, mksock: 1.5, setxattr: 4, removexattr: 2,
  read: 4, list: 3, stat: 3,
};

/** Draws operations one at a time; give it the oracle's view before each draw. */
export class OpGenerator {
  private readonly r: Prng;
  private readonly pool = poolPaths();
  private readonly byDepth = [1, 2, 3].map((d) => this.pool.filter((p) => depth(p) === d));
  private readonly known: string[] = [];
  private readonly seen = new Set<string>();
  /** Recent setxattr targets, so that removexattr sometimes finds something to remove. */
  private readonly xattrsSet: { path: string; name: string }[] = [];

  constructor(readonly seed: number) {
    this.r = new Prng(seed);
  }

  /** Op number `i`, for a view that now holds `all`. */
  next(i: number, view: ViewState): Op {
    const r = this.r;
    for (const p of [...view.dirs, ...view.nondirs]) this.remember(p);
    const parents = view.dirs.filter((p) => depth(p) < MAX_DEPTH);
    const existing = (): string => {
      if (view.dirs.length + view.nondirs.length === 0) return this.poolPath();
      return r.pick(view.nondirs.length === 0 || (view.dirs.length > 0 && r.chance(0.4)) ? view.dirs : view.nondirs);
    };
    const existingNonDir = (): string => (view.nondirs.length > 0 ? r.pick(view.nondirs) : this.poolPath());
    const existingDir = (): string => (view.dirs.length > 0 ? r.pick(view.dirs) : this.poolPath());
    const newChild = (): string => `${r.chance(0.15) || parents.length === 0 ? '' : r.pick(parents)}/${r.pick(NAMES)}`;
    const any = (): string => {
      switch (r.weighted({ existing: 40, pool: 25, child: 20, known: 15 })) {
        case 'existing': return existing();
        case 'pool': return this.poolPath();
        case 'child': return newChild();
        default: return r.pick(this.known.length > 0 ? this.known : this.pool);
      }
    };
    const target = (): string => (r.chance(0.45) ? newChild() : any());
    const data = (): string => {
      const len = r.chance(0.8) ? r.int(64) : r.int(6000);
      const unit = `${i}${'abcdefghij'[r.int(10)]}`;
      return unit.repeat(Math.ceil(len / unit.length)).slice(0, len);
    };

    const kind = r.weighted(OP_WEIGHTS);
    switch (kind) {
      case 'create': return { kind, path: this.remember(target()), mode: r.pick(FILE_MODES), data: data() };
      case 'write': case 'append': return { kind, path: this.remember(r.chance(0.5) ? existingNonDir() : target()), data: data() };
      case 'pwrite': return { kind, path: r.chance(0.7) ? existingNonDir() : any(), offset: r.int(300), data: data() };
      case 'truncate': return { kind, path: r.chance(0.7) ? existingNonDir() : any(), size: r.pick(TRUNCATE_SIZES) };
      case 'unlink': return { kind, path: r.chance(0.6) ? existingNonDir() : any() };
      case 'rmdir': return { kind, path: r.chance(0.6) ? existingDir() : any() };
      case 'read': case 'list': case 'stat': return { kind, path: r.chance(0.6) ? existing() : any() };
      case 'mkdir': return { kind, path: this.remember(target()), mode: r.pick(DIR_MODES) };
      case 'mkfifo': case 'mksock': return { kind, path: this.remember(target()), mode: r.pick(FILE_MODES) };
      case 'symlink': return { kind, target: r.pick(SYMLINK_TARGETS), path: this.remember(target()) };
      case 'rename': {
        const from = r.chance(0.75) ? (r.chance(0.5) ? existingDir() : existing()) : any();
        let to: string;
        switch (r.weighted({ child: 35, existing: 25, inside: 10, noParent: 10, any: 20 })) {
          case 'child': to = newChild(); break;
          case 'existing': to = existing(); break;
          case 'inside': to = `${from}/${r.pick(NAMES)}`; break;          // EINVAL for a directory
          case 'noParent': to = `${any()}/${r.pick(NAMES)}/${r.pick(NAMES)}`; break;
          default: to = any();
        }
        return { kind, from, to: this.remember(to) };
      }
      case 'link': return { kind, from: r.chance(0.7) ? existingNonDir() : any(), to: this.remember(target()) };
      case 'chmod': return { kind, path: r.chance(0.6) ? existing() : any(), mode: r.pick(CHMOD_MODES) };
      case 'utimes': return { kind, path: r.chance(0.6) ? existing() : any(), atime: 1_000_000 + r.int(1e6), mtime: 1_000_000 + r.int(1e6) };
      case 'setxattr': {
        const set = { path: r.chance(0.6) ? existing() : any(), name: r.pick(XATTR_NAMES) };
        this.xattrsSet.push(set);
        if (this.xattrsSet.length > 20) this.xattrsSet.shift();
        return { kind, ...set, value: `v${i}` };
      }
      case 'removexattr':
        if (this.xattrsSet.length > 0 && r.chance(0.5)) return { kind, ...r.pick(this.xattrsSet) };
        return { kind, path: r.chance(0.6) ? existing() : any(), name: r.pick(XATTR_NAMES) };
    }
  }

  private poolPath(): string {
    return this.r.pick(this.byDepth[Number(this.r.weighted({ 0: 25, 1: 40, 2: 35 }))]!);
  }

  private remember(p: string): string {
    if (!this.seen.has(p)) {
      this.seen.add(p);
      this.known.push(p);
    }
    return p;
  }
}
