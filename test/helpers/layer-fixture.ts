// A deterministic stack of lower layers for differential tests, written as data and built by one
// function, so every union under test gets identical layers. It has files shadowed across layers,
// directories merged from two and three layers, directories that exist only in one lower layer,
// a directory over a lower symlink, a lower fifo, a lower socket node, a 255-byte name, user.* xattrs, a setgid directory of another
// group, entries of other owners, and no whiteouts or opaque directories. Names come from the
// same small pool (a, b, c, d) random operations use.
import { chmodSync, lchownSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { atClientPath, mkdirDeep } from './deep-path.js';
import { mkfifoSync, mksockSync } from './fs-ops.js';

const require = createRequire(import.meta.url);
const xattr = require('@napi-rs/xattr') as { setAttributeSync(path: string, name: string, value: string): void };

/** uid and gid of an entry; root's (0, 0) when not given. */
type Owner = readonly [uid: number, gid: number];

export type LayerEntry =
  | { kind: 'dir'; path: string; mode: number; xattrs?: Record<string, string>; owner?: Owner }
  | { kind: 'file'; path: string; mode: number; data: string; xattrs?: Record<string, string>; owner?: Owner }
  | { kind: 'symlink'; path: string; target: string; owner?: Owner }
  | { kind: 'fifo'; path: string; mode: number; owner?: Owner }
  | { kind: 'socket'; path: string; mode: number; owner?: Owner };

interface Extra { xattrs?: Record<string, string>; owner?: Owner }
const dir = (path: string, mode = 0o755, extra: Extra = {}): LayerEntry => ({ kind: 'dir', path, mode, ...extra });
const file = (path: string, data: string, mode = 0o644, extra: Extra = {}): LayerEntry => ({ kind: 'file', path, mode, data, ...extra });
const symlink = (path: string, target: string, owner?: Owner): LayerEntry => ({ kind: 'symlink', path, target, owner });
const fifo = (path: string, mode = 0o644): LayerEntry => ({ kind: 'fifo', path, mode });
const socket = (path: string, mode = 0o755, owner?: Owner): LayerEntry => ({ kind: 'socket', path, mode, owner });

/** A name of NAME_MAX (255) bytes: aufs whites it out with a hashed marker (docs/whiteouts.md). */
export const LONG_NAME = 'l'.repeat(254) + 'z';

/**
 * Highest priority first (lowerdir order). Hard links inside lower layers are left out on purpose:
 * overlayfs without index=on breaks them on copy-up (a documented overlayfs limitation, not POSIX).
 */
export const LOWER_LAYERS: readonly (readonly LayerEntry[])[] = [
  [ // l0
    dir('/a', 0o755, { xattrs: { 'user.layer': 'l0' } }),          // /a merged from l0, l1, l2; mode from l0
    file('/a/a', 'l0 /a/a shadows l2\n', 0o600),
    dir('/a/b', 0o755),                                  // /a/b merged from l0, l1, l2
    file('/a/b/b', 'l0 /a/b/b\n'),
    file('/b', 'l0 /b shadows l1 and l2\n', 0o640, { xattrs: { 'user.x': 'l0' } }),
    dir('/d', 0o750),                                    // a directory over l2's symlink /d
    file('/d/a', 'l0 /d/a\n', 0o755),
  ],
  [ // l1
    dir('/a', 0o711, { xattrs: { 'user.layer': 'l1' } }),
    file('/a/c', 'l1 /a/c shadows l2\n', 0o644, { xattrs: { 'user.x': 'l1' } }),
    dir('/a/b', 0o700),
    file('/a/b/a', 'l1 /a/b/a\n', 0o755),
    dir('/a/d', 0o755),                                  // only in l1
    file('/a/d/a', 'l1 /a/d/a\n'),
    symlink('/a/d/b', '../c'),
    file('/b', 'l1 /b\n'),
    // /c merged from l1 and l2; setgid and group 100, so new entries inherit both
    dir('/c', 0o2775, { xattrs: { 'user.layer': 'l1' }, owner: [0, 100] }),
    file('/c/d', 'l1 /c/d\n', 0o4755),
  ],
  [ // l2
    dir('/a', 0o700),
    file('/a/a', 'l2 /a/a\n'),
    dir('/a/b', 0o755),
    file('/a/b/c', 'l2 /a/b/c\n'),
    dir('/a/b/d', 0o755),                                // only in l2, below a merged directory
    file('/a/b/d/a', 'l2 /a/b/d/a\n', 0o000),
    socket('/a/b/d/b', 0o750, [1000, 100]),               // a socket node nobody listens on
    file(`/a/b/d/${LONG_NAME}`, 'l2 255-byte name\n'),     // too long for an aufs .wh. marker
    file('/a/c', 'l2 /a/c\n', 0o644, { xattrs: { 'user.x': 'l2', 'user.y': 'l2' } }),
    file('/b', 'l2 /b\n'),
    dir('/c', 0o775),
    file('/c/a', 'l2 /c/a, a larger file for partial copy-up. '.repeat(400)),
    dir('/c/b', 0o755, { xattrs: { 'user.layer': 'l2' } }),          // only in l2
    file('/c/b/a', 'l2 /c/b/a\n', 0o640, { owner: [1000, 1000] }),
    dir('/c/b/b', 0o755),
    file('/c/b/b/c', 'l2 /c/b/b/c\n'),
    fifo('/c/c', 0o644),
    symlink('/d', 'a/b', [1000, 100]),
  ],
];

/** Write one layer's entries under `root` (which exists). Entries are in parent-first order. */
export function buildLayer(root: string, entries: readonly LayerEntry[]): void {
  for (const e of entries) atClientPath(root + e.path, (p) => buildEntry(p, e));
}

function buildEntry(p: string, e: LayerEntry): void {
  switch (e.kind) {
    case 'dir': mkdirSync(p); break;
    case 'file': writeFileSync(p, e.data); break;
    case 'symlink': symlinkSync(e.target, p); break;
    case 'fifo': mkfifoSync(p, e.mode); break;
    case 'socket': mksockSync(p, e.mode); break;
  }
  // Owner before mode: chown clears the setuid and setgid bits of a regular file.
  if (e.owner) lchownSync(p, e.owner[0], e.owner[1]);
  if (e.kind !== 'symlink') chmodSync(p, e.mode);
  if ((e.kind === 'dir' || e.kind === 'file') && e.xattrs) {
    for (const [name, value] of Object.entries(e.xattrs)) xattr.setAttributeSync(p, name, value);
  }
}

/**
 * Build LOWER_LAYERS into `dirs` (highest priority first, as many as there are layers), once under
 * each of `under` ('' for the layer roots, '/s1' for a copy in directory s1 of every layer, or a
 * path of many levels: past PATH_MAX too).
 */
export function buildLowerLayers(dirs: readonly string[], under: readonly string[] = ['']): void {
  if (dirs.length !== LOWER_LAYERS.length) throw new Error(`expected ${LOWER_LAYERS.length} layer dirs, got ${dirs.length}`);
  for (const prefix of under) {
    LOWER_LAYERS.forEach((entries, i) => {
      if (prefix !== '') mkdirDeep(dirs[i]!, prefix); // a prefix may be many levels deep
      buildLayer(dirs[i]! + prefix, entries);
    });
  }
}
