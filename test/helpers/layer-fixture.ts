// A deterministic stack of lower layers for differential tests, written as data and built by one
// function, so every union under test gets identical layers. It has files shadowed across layers,
// directories merged from two and three layers, directories that exist only in one lower layer,
// a directory over a lower symlink, a lower fifo, user.* xattrs, and no whiteouts or opaque
// directories. Names come from the same small pool (a, b, c, d) random operations use.
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const xattr = require('@napi-rs/xattr') as { setAttributeSync(path: string, name: string, value: string): void };

export type LayerEntry =
  | { kind: 'dir'; path: string; mode: number; xattrs?: Record<string, string> }
  | { kind: 'file'; path: string; mode: number; data: string; xattrs?: Record<string, string> }
  | { kind: 'symlink'; path: string; target: string }
  | { kind: 'fifo'; path: string; mode: number };

const dir = (path: string, mode = 0o755, xattrs?: Record<string, string>): LayerEntry => ({ kind: 'dir', path, mode, xattrs });
const file = (path: string, data: string, mode = 0o644, xattrs?: Record<string, string>): LayerEntry =>
  ({ kind: 'file', path, mode, data, xattrs });
const symlink = (path: string, target: string): LayerEntry => ({ kind: 'symlink', path, target });
const fifo = (path: string, mode = 0o644): LayerEntry => ({ kind: 'fifo', path, mode });

/**
 * Highest priority first (lowerdir order). Hard links inside lower layers are left out on purpose:
 * overlayfs without index=on breaks them on copy-up (a documented overlayfs limitation, not POSIX).
 */
export const LOWER_LAYERS: readonly (readonly LayerEntry[])[] = [
  [ // l0
    dir('/a', 0o755, { 'user.layer': 'l0' }),          // /a merged from l0, l1, l2; mode from l0
    file('/a/a', 'l0 /a/a shadows l2\n', 0o600),
    dir('/a/b', 0o755),                                  // /a/b merged from l0, l1, l2
    file('/a/b/b', 'l0 /a/b/b\n'),
    file('/b', 'l0 /b shadows l1 and l2\n', 0o640, { 'user.x': 'l0' }),
    dir('/d', 0o750),                                    // a directory over l2's symlink /d
    file('/d/a', 'l0 /d/a\n', 0o755),
  ],
  [ // l1
    dir('/a', 0o711, { 'user.layer': 'l1' }),
    file('/a/c', 'l1 /a/c shadows l2\n', 0o644, { 'user.x': 'l1' }),
    dir('/a/b', 0o700),
    file('/a/b/a', 'l1 /a/b/a\n', 0o755),
    dir('/a/d', 0o755),                                  // only in l1
    file('/a/d/a', 'l1 /a/d/a\n'),
    symlink('/a/d/b', '../c'),
    file('/b', 'l1 /b\n'),
    dir('/c', 0o755, { 'user.layer': 'l1' }),            // /c merged from l1 and l2
    file('/c/d', 'l1 /c/d\n', 0o4755),
  ],
  [ // l2
    dir('/a', 0o700),
    file('/a/a', 'l2 /a/a\n'),
    dir('/a/b', 0o755),
    file('/a/b/c', 'l2 /a/b/c\n'),
    dir('/a/b/d', 0o755),                                // only in l2, below a merged directory
    file('/a/b/d/a', 'l2 /a/b/d/a\n', 0o000),
    file('/a/c', 'l2 /a/c\n', 0o644, { 'user.x': 'l2', 'user.y': 'l2' }),
    file('/b', 'l2 /b\n'),
    dir('/c', 0o775),
    file('/c/a', 'l2 /c/a, a larger file for partial copy-up. '.repeat(400)),
    dir('/c/b', 0o755, { 'user.layer': 'l2' }),          // only in l2
    file('/c/b/a', 'l2 /c/b/a\n'),
    dir('/c/b/b', 0o755),
    file('/c/b/b/c', 'l2 /c/b/b/c\n'),
    fifo('/c/c', 0o644),
    symlink('/d', 'a/b'),
  ],
];

/** Write one layer's entries under `root` (which exists). Entries are in parent-first order. */
export function buildLayer(root: string, entries: readonly LayerEntry[]): void {
  for (const e of entries) {
    const p = root + e.path;
    switch (e.kind) {
      case 'dir': mkdirSync(p); chmodSync(p, e.mode); break;
      case 'file': writeFileSync(p, e.data); chmodSync(p, e.mode); break;
      case 'symlink': symlinkSync(e.target, p); break;
      case 'fifo': execFileSync('mknod', ['-m', e.mode.toString(8), '--', p, 'p']); break;
    }
    if ((e.kind === 'dir' || e.kind === 'file') && e.xattrs) {
      for (const [name, value] of Object.entries(e.xattrs)) xattr.setAttributeSync(p, name, value);
    }
  }
}

/** Build LOWER_LAYERS into `dirs` (highest priority first, as many as there are layers). */
export function buildLowerLayers(dirs: readonly string[]): void {
  if (dirs.length !== LOWER_LAYERS.length) throw new Error(`expected ${LOWER_LAYERS.length} layer dirs, got ${dirs.length}`);
  LOWER_LAYERS.forEach((entries, i) => buildLayer(dirs[i]!, entries));
}

/** Every path some lower layer has (what random operations start from, besides the name pool). */
export function lowerPaths(): string[] {
  return [...new Set(LOWER_LAYERS.flatMap((l) => l.map((e) => e.path)))].sort();
}
