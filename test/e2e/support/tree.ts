// Fixture trees for e2e tests: a layer's contents as data, written to a host directory in one
// whiteout format, or merged top-down into the one plain directory that shows what a union view of
// those layers must look like (the oracle). A plain object is a directory; a string is a file.
import { execFileSync } from 'node:child_process';
import {
  closeSync, ftruncateSync, lchownSync, lutimesSync, mkdirSync, openSync, symlinkSync, writeFileSync, writeSync,
  chmodSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { mksockSync } from '../../helpers/fs-ops.js';

const require = createRequire(import.meta.url);
const xattr = require('@napi-rs/xattr') as { setAttributeSync(path: string, name: string, value: string): void };

const TAG = Symbol('fixture');

/** Attributes a fixture entry may set; times are seconds since the epoch. */
export interface Meta {
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly atime?: number;
  readonly mtime?: number;
  readonly xattrs?: Readonly<Record<string, string>>;
}

interface FileSpec { readonly [TAG]: 'file'; readonly content: string | Buffer; readonly meta: Meta }
interface DirSpec { readonly [TAG]: 'dir'; readonly entries: Tree; readonly meta: Meta; readonly opaque: boolean }
interface LinkSpec { readonly [TAG]: 'symlink'; readonly target: string; readonly meta: Meta }
interface SparseSpec { readonly [TAG]: 'sparse'; readonly size: number; readonly data: readonly (readonly [number, string])[]; readonly meta: Meta }
interface BigSpec { readonly [TAG]: 'big'; readonly size: number; readonly seed: number; readonly meta: Meta }
interface FifoSpec { readonly [TAG]: 'fifo'; readonly meta: Meta }
interface SocketSpec { readonly [TAG]: 'socket'; readonly meta: Meta }
interface WhiteoutSpec { readonly [TAG]: 'whiteout' }

type Special = FileSpec | DirSpec | LinkSpec | SparseSpec | BigSpec | FifoSpec | SocketSpec | WhiteoutSpec;
export type Entry = string | Special | Tree;
export interface Tree { readonly [name: string]: Entry }

export const file = (content: string | Buffer, meta: Meta = {}): FileSpec => ({ [TAG]: 'file', content, meta });
export const dir = (entries: Tree, meta: Meta = {}): DirSpec => ({ [TAG]: 'dir', entries, meta, opaque: false });
/** A directory that hides the same directory's contents in the layers below it. */
export const opaqueDir = (entries: Tree, meta: Meta = {}): DirSpec => ({ [TAG]: 'dir', entries, meta, opaque: true });
export const symlink = (target: string, meta: Meta = {}): LinkSpec => ({ [TAG]: 'symlink', target, meta });
/** A file of `size` bytes that is a hole except for `data` written at the given offsets. */
export const sparse = (size: number, data: readonly (readonly [number, string])[], meta: Meta = {}): SparseSpec =>
  ({ [TAG]: 'sparse', size, data, meta });
/** A file of `size` bytes of pseudo-random data (no zero blocks), the same for the same seed. */
export const big = (size: number, seed = 1, meta: Meta = {}): BigSpec => ({ [TAG]: 'big', size, seed, meta });
export const fifo = (meta: Meta = {}): FifoSpec => ({ [TAG]: 'fifo', meta });
/** A socket node nobody listens on (what a bound AF_UNIX socket leaves behind). */
export const socketNode = (meta: Meta = {}): SocketSpec => ({ [TAG]: 'socket', meta });
/** A deletion recorded in this layer: hides the name in the layers below. */
export const whiteout = (): WhiteoutSpec => ({ [TAG]: 'whiteout' });

export type LayerFormat = 'aufs' | 'overlay' | 'plain';

function special(e: Entry): Special | undefined {
  return typeof e === 'object' && TAG in e ? (e as Special) : undefined;
}

/** The entries of a directory-like entry, or undefined for anything else. */
function dirOf(e: Entry): { entries: Tree; meta: Meta; opaque: boolean } | undefined {
  if (typeof e === 'string') return undefined;
  const s = special(e);
  if (!s) return { entries: e as Tree, meta: {}, opaque: false };
  return s[TAG] === 'dir' ? s : undefined;
}

/**
 * The tree a union of `layers` (top first) must show: the highest entry of a name wins, a
 * whiteout hides the name below it, directories merge down to the first opaque one.
 */
export function mergeLayers(layers: readonly Tree[]): Tree {
  const names = new Set(layers.flatMap((l) => Object.keys(l)));
  const out: Record<string, Entry> = {};
  for (const name of names) {
    const stack = layers.map((l) => l[name]).filter((e): e is Entry => e !== undefined);
    const top = stack[0]!;
    if (special(top)?.[TAG] === 'whiteout') continue;
    const d = dirOf(top);
    if (!d) { out[name] = top; continue; }
    const chain: Tree[] = [d.entries];
    let opaque = d.opaque;
    for (const below of stack.slice(1)) {
      const bd = dirOf(below);
      if (opaque || !bd) break;
      chain.push(bd.entries);
      opaque = bd.opaque;
    }
    out[name] = dir(mergeLayers(chain), d.meta);
  }
  return out;
}

/** Write `tree` into the existing directory `root`, recording whiteouts and opaque dirs in `format`. */
export function materialize(root: string, tree: Tree, format: LayerFormat): void {
  for (const [name, e] of Object.entries(tree)) writeEntry(join(root, name), e, format);
}

function writeEntry(path: string, e: Entry, format: LayerFormat): void {
  if (typeof e === 'string') return writeEntry(path, file(e), format);
  const s = special(e) ?? dir(e as Tree);
  switch (s[TAG]) {
    case 'file':
      writeFileSync(path, s.content);
      return applyMeta(path, s.meta, false);
    case 'dir':
      mkdirSync(path);
      materialize(path, s.entries, format);
      if (s.opaque) markOpaque(path, format);
      return applyMeta(path, s.meta, false);
    case 'symlink':
      symlinkSync(s.target, path);
      return applyMeta(path, s.meta, true);
    case 'sparse': {
      const fd = openSync(path, 'w');
      try {
        ftruncateSync(fd, s.size);
        for (const [off, text] of s.data) writeSync(fd, text, off);
      } finally {
        closeSync(fd);
      }
      return applyMeta(path, s.meta, false);
    }
    case 'big':
      writeBig(path, s.size, s.seed);
      return applyMeta(path, s.meta, false);
    case 'fifo':
      execFileSync('mknod', [path, 'p']);
      return applyMeta(path, s.meta, false);
    case 'socket':
      mksockSync(path, 0o755);
      return applyMeta(path, s.meta, false);
    case 'whiteout':
      return writeWhiteout(path, format);
  }
}

function writeWhiteout(path: string, format: LayerFormat): void {
  const slash = path.lastIndexOf('/');
  if (format === 'aufs') writeFileSync(path.slice(0, slash) + '/.wh.' + path.slice(slash + 1), '', { mode: 0o444 });
  else if (format === 'overlay') execFileSync('mknod', ['-m', '000', path, 'c', '0', '0']);
  else throw new Error(`a plain directory cannot hold a whiteout (${path})`);
}

function markOpaque(path: string, format: LayerFormat): void {
  if (format === 'aufs') writeFileSync(join(path, '.wh..wh..opq'), '', { mode: 0o444 });
  else if (format === 'overlay') xattr.setAttributeSync(path, 'trusted.overlay.opaque', 'y');
}

function applyMeta(path: string, m: Meta, isLink: boolean): void {
  for (const [k, v] of Object.entries(m.xattrs ?? {})) xattr.setAttributeSync(path, k, v);
  if (m.uid !== undefined || m.gid !== undefined) lchownSync(path, m.uid ?? 0, m.gid ?? 0);
  if (m.mode !== undefined && !isLink) chmodSync(path, m.mode);
  if (m.mtime !== undefined || m.atime !== undefined) {
    const t = m.mtime ?? m.atime!;
    lutimesSync(path, m.atime ?? t, m.mtime ?? t);
  }
}

const MiB = 1 << 20;

/** Pseudo-random bytes (xorshift), each MiB stamped with its index so no two blocks are equal. */
function writeBig(path: string, size: number, seed: number): void {
  const buf = Buffer.allocUnsafe(MiB);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < MiB; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    buf.writeUInt32LE(x, i);
  }
  const fd = openSync(path, 'w');
  try {
    for (let off = 0; off < size; off += MiB) {
      buf.writeUInt32LE(off / MiB, 0);
      writeSync(fd, buf, 0, Math.min(MiB, size - off), off);
    }
  } finally {
    closeSync(fd);
  }
}
