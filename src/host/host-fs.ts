// The path-taking node:fs calls (and the addon's) that worldfs makes on layer directories, with
// the same signatures, made to work at any path length (long-path.ts). The common, short path costs
// one length test. Code that touches layer paths imports these instead of node:fs's.
import * as fs from 'node:fs';
import { constants } from 'node:os';
import { isDirect } from '../core/path-chunks.js';
import { atPath, atPaths } from './long-path.js';
import * as sys from './syscalls.js';
import { hostCode } from './errors.js';

type PathFirst = (path: string, ...rest: never[]) => unknown;
type Loose = (path: string, a?: unknown, b?: unknown, c?: unknown) => unknown;

// Fixed arity (every wrapped call takes at most three more arguments; node:fs reads a trailing
// undefined as absent): a short path costs one length test, no closure and no rest array.

/** Wrap a node:fs function whose first argument is a path. */
function one<F extends PathFirst>(fn: F): F {
  const f = fn as unknown as Loose;
  return ((path: string, a?: unknown, b?: unknown, c?: unknown) =>
    isDirect(path) ? f(path, a, b, c) : atPath(path, (p) => f(p, a, b, c))) as unknown as F;
}

/** Wrap a node:fs function whose first two arguments are paths. */
function two<F extends (a: string, b: string, ...rest: never[]) => unknown>(fn: F): F {
  const f = fn as unknown as (x: string, y: string, a?: unknown) => unknown;
  return ((x: string, y: string, a?: unknown) =>
    isDirect(x) && isDirect(y) ? f(x, y, a) : atPaths(x, y, (p, q) => f(p, q, a))) as unknown as F;
}

export const accessSync = one(fs.accessSync);
export const chmodSync = one(fs.chmodSync);
export const chownSync = one(fs.chownSync);
export const lchownSync = one(fs.lchownSync);
const lstatWalked = one(fs.lstatSync as PathFirst) as typeof fs.lstatSync;
/** lstat; with `throwIfNoEntry: false`, a missing directory on a long path's walk is no entry either. */
export const lstatSync = ((path: string, options?: fs.StatSyncOptions) => {
  if (isDirect(path) || options?.throwIfNoEntry !== false) return lstatWalked(path, options);
  try {
    return lstatWalked(path, options);
  } catch (e) {
    if (hostCode(e) === 'ENOENT') return undefined;
    throw e;
  }
}) as typeof fs.lstatSync;
export const mkdirSync = one(fs.mkdirSync as PathFirst) as typeof fs.mkdirSync;
export const openSync = one(fs.openSync);
export const readdirSync = one(fs.readdirSync as PathFirst) as typeof fs.readdirSync;
export const readdirNoAtime = one(sys.readdirNoAtime);
export const readlinkSync = one(fs.readlinkSync as PathFirst) as typeof fs.readlinkSync;
export const rmSync = one(fs.rmSync);
export const unlinkSync = one(fs.unlinkSync);
export const writeFileSync = one(fs.writeFileSync as PathFirst) as typeof fs.writeFileSync;
export const linkSync = two(fs.linkSync);
export const renameSync = two(fs.renameSync);

/** linkat(2) of the O_TMPFILE file open as `fd`: its first name, `path`. */
export function linkFdSync(fd: number, path: string): void {
  atPath(path, (p) => sys.linkFd(fd, p));
}

/** symlink(2): `target` is the link's content, never a path of ours; `path` is. */
export function symlinkSync(target: string, path: string): void {
  atPath(path, (p) => fs.symlinkSync(target, p));
}

/** syscalls.ts's utimensNs at any path length. */
export function utimensNs(path: string, atimeNs: bigint | 'now' | undefined, mtimeNs: bigint | 'now' | undefined): void {
  atPath(path, (p) => sys.utimensNs(p, atimeNs, mtimeNs));
}

/** syscalls.ts's mknodRaw at any path length. */
export function mknodRaw(path: string, mode: number, major: number, minor: number): void {
  atPath(path, (p) => sys.mknodRaw(p, mode, major, minor));
}

/** syscalls.ts's renameat2 at any path length. */
export function renameat2(from: string, to: string, flags: number): void {
  atPaths(from, to, (a, b) => sys.renameat2(a, b, flags));
}

const ERRNO = constants.errno as Record<string, number>;

/**
 * syscalls.ts's lstatNoSymlinks at any path length. A long path's directories are walked with
 * RESOLVE_NO_SYMLINKS already, so its last name is lstat'ed through the descriptor.
 */
export function lstatNoSymlinks(path: string, out: sys.ModeAndRdev): number {
  if (isDirect(path)) return sys.lstatNoSymlinks(path, out);
  try {
    return atPath(path, (p) => {
      if (p === path) return sys.lstatNoSymlinks(p, out);
      const st = fs.lstatSync(p);
      out.mode = st.mode;
      out.rdev = st.rdev;
      return 0;
    });
  } catch (e) {
    const n = ERRNO[hostCode(e) ?? ''];
    if (n === undefined) throw e;
    return n;
  }
}

export { RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT, type ModeAndRdev } from './syscalls.js';
