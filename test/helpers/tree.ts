// Test helper: describe a directory tree as data (type, permission bits, content hash, symlink
// target, optionally mtime) so two trees — a view and its oracle — can be compared with one toEqual.
// Run it from the test process only: never from the process that serves a mount.
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export type EntryType = 'file' | 'dir' | 'symlink' | 'chardev' | 'blockdev' | 'fifo' | 'socket';

export interface TreeEntry {
  type: EntryType;
  /** Permission bits (07777), as octal text so a mismatch reads well. */
  mode: string;
  size?: number;
  sha256?: string;
  target?: string;
  /** Whole seconds; only with `{ mtime: true }`. */
  mtime?: number;
}

function typeOf(st: import('node:fs').Stats): EntryType {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'chardev';
  if (st.isBlockDevice()) return 'blockdev';
  if (st.isFIFO()) return 'fifo';
  return 'socket';
}

export function sha256(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export interface TreeOptions {
  /** Record mtimes (whole seconds) of files and directories. */
  mtime?: boolean;
  /** Relative paths (and everything under them) to leave out. */
  exclude?: readonly string[];
}

/** Every entry under `root` (not `root` itself), keyed by path relative to `root`, sorted. */
export function describeTree(root: string, opts: TreeOptions = {}): Record<string, TreeEntry> {
  const out: Record<string, TreeEntry> = {};
  const exclude = new Set(opts.exclude ?? []);
  const walk = (rel: string) => {
    const names = readdirSync(rel === '' ? root : join(root, rel)).sort();
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`;
      if (exclude.has(r)) continue;
      const p = join(root, r);
      const st = lstatSync(p);
      const e: TreeEntry = { type: typeOf(st), mode: (st.mode & 0o7777).toString(8) };
      if (e.type === 'file') {
        e.size = st.size;
        e.sha256 = sha256(p);
      }
      if (e.type === 'symlink') e.target = readlinkSync(p);
      if (opts.mtime && (e.type === 'file' || e.type === 'dir')) e.mtime = Math.floor(st.mtimeMs / 1000);
      out[r] = e;
      if (e.type === 'dir') walk(r);
    }
  };
  walk('');
  return out;
}
