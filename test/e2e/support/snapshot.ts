// A fingerprint of a directory tree, taken on the host (never through a mount): one line per entry
// with its type, mode, owner, link count, inode, size, mtime, ctime, xattrs and a content hash.
// Two equal fingerprints mean nothing in the tree was written, replaced, renamed or re-attributed.
import { createHash } from 'node:crypto';
import { closeSync, constants, lstatSync, openSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const xattr = require('@napi-rs/xattr') as {
  listAttributesSync(path: string): string[];
  getAttributeSync(path: string, name: string): Buffer | null;
};

/** Files above this size are fingerprinted by metadata only (a write changes mtime and ctime). */
const HASH_LIMIT = 64 << 20;
const { O_RDONLY, O_NOATIME } = constants; // reading must not change what it fingerprints

/** Sorted fingerprint lines of everything under `root` (paths relative to it). */
export function fingerprint(root: string): string[] {
  const out: string[] = [];
  walk(root, '', out);
  return out.sort();
}

function hashFile(path: string): string {
  const fd = openSync(path, O_RDONLY | O_NOATIME);
  try {
    return createHash('sha256').update(readFileSync(fd)).digest('hex').slice(0, 16);
  } finally {
    closeSync(fd);
  }
}

function walk(root: string, rel: string, out: string[]): void {
  const path = rel === '' ? root : `${root}/${rel}`;
  const st = lstatSync(path, { bigint: true });
  let what = '';
  if (st.isFile()) {
    what = st.size > HASH_LIMIT ? 'big' : hashFile(path);
  } else if (st.isSymbolicLink()) {
    what = '-> ' + readlinkSync(path);
  } else if (st.isCharacterDevice() || st.isBlockDevice()) {
    what = `rdev ${st.rdev}`;
  }
  const xa = xattr.listAttributesSync(path).sort()
    .map((n) => `${n}=${xattr.getAttributeSync(path, n)?.toString('hex') ?? ''}`).join(',');
  out.push([
    rel || '.', `mode ${st.mode.toString(8)}`, `owner ${st.uid}:${st.gid}`, `nlink ${st.nlink}`, `ino ${st.ino}`,
    `size ${st.size}`, `mtime ${st.mtimeNs}`, `ctime ${st.ctimeNs}`, `xattrs [${xa}]`, what,
  ].join(' '));
  if (st.isDirectory()) {
    for (const name of readdirSync(path)) walk(root, rel === '' ? name : `${rel}/${name}`, out);
  }
}
