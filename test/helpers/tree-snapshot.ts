// The visible state of a directory tree as comparable data: for every path its type, permission
// bits, owner, user.* xattrs and, for non-directories, size, link count, content hash or symlink target.
// Deliberately left out (they legitimately differ between union implementations): inode numbers,
// st_dev, timestamps, and a directory's size and link count.
import { createHash } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { createRequire } from 'node:module';
import { atClientPath } from './deep-path.js';

const require = createRequire(import.meta.url);
const xattr = require('@napi-rs/xattr') as {
  getAttributeSync(path: string, name: string): Buffer | null;
  listAttributesSync(path: string): string[];
};

/** View path -> one-line canonical description of the entry there. */
export type TreeSnapshot = ReadonlyMap<string, string>;

function typeOf(st: Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isCharacterDevice()) return `chardev ${st.rdev}`;
  if (st.isBlockDevice()) return `blockdev ${st.rdev}`;
  return 'socket';
}

/** The comparable part of an lstat: type, permission bits, owner, and for non-directories size and nlink. */
export function summarizeStat(st: Stats): string {
  const head = `${typeOf(st)} ${(st.mode & 0o7777).toString(8).padStart(4, '0')} ${st.uid}:${st.gid}`;
  return st.isDirectory() ? head : `${head} size=${st.size} nlink=${st.nlink}`;
}

const code = (e: unknown) => (e as { code?: string }).code ?? String((e as Error).message);

function describe(path: string, st: Stats): string {
  return atClientPath(path, (p) => describeAt(p, st));
}

function describeAt(path: string, st: Stats): string {
  let s = summarizeStat(st);
  try {
    if (st.isFile()) {
      // O_NONBLOCK: harmless for a regular file, and a safeguard should anything else answer here.
      const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
      try {
        s += ` sha1=${createHash('sha1').update(readFileSync(fd)).digest('hex').slice(0, 12)}`;
      } finally {
        closeSync(fd);
      }
    } else if (st.isSymbolicLink()) {
      s += ` -> ${JSON.stringify(readlinkSync(path))}`;
    }
    // user.* xattrs exist only on regular files and directories (the VFS refuses them elsewhere).
    if (st.isFile() || st.isDirectory()) {
      const names = xattr.listAttributesSync(path).filter((n) => n.startsWith('user.')).sort();
      if (names.length > 0) {
        s += ' xattrs{' + names.map((n) => `${n}=${JSON.stringify(xattr.getAttributeSync(path, n)?.toString('utf8') ?? null)}`).join(',') + '}';
      }
    }
  } catch (e) {
    s += ` <error ${code(e)}>`;
  }
  return s;
}

/** Walk the tree at `root` (without following symlinks) and describe every entry below it. */
export function snapshotTree(root: string): TreeSnapshot {
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    let names: string[];
    try {
      names = atClientPath(root + rel, (p) => readdirSync(p)).sort();
    } catch (e) {
      out.set(rel || '/', `<readdir error ${code(e)}>`);
      return;
    }
    for (const name of names) {
      const p = `${rel}/${name}`;
      let st: Stats;
      try {
        st = atClientPath(root + p, (q) => lstatSync(q));
      } catch (e) {
        out.set(p, `<lstat error ${code(e)}>`);
        continue;
      }
      out.set(p, describe(root + p, st));
      if (st.isDirectory()) walk(p);
    }
  };
  out.set('/', describe(root, atClientPath(root, (p) => lstatSync(p))));
  walk('');
  return out;
}

/** One line per path whose entries differ ('(absent)' where a side has none), sorted by path. */
export function diffSnapshots(expected: TreeSnapshot, actual: TreeSnapshot, labels: readonly [string, string]): string[] {
  const paths = [...new Set([...expected.keys(), ...actual.keys()])].sort();
  const lines: string[] = [];
  for (const p of paths) {
    const a = expected.get(p) ?? '(absent)';
    const b = actual.get(p) ?? '(absent)';
    if (a !== b) lines.push(`${p}\n      ${labels[0]}: ${a}\n      ${labels[1]}: ${b}`);
  }
  return lines;
}
