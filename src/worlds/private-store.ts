// The store is private to the user who made it (docker keeps /var/lib/docker 0710): other local
// users must not rewrite the records merges trust (worlds.xml, seen logs), read a world's layer, or
// run from its host path a setuid file a world's process made (the layer's filesystem is not
// nosuid). The directories that hold worlds' data are 0700; files are written 0600.
import { chmodSync, lstatSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fromIo } from '../registry/io-error.js';

/** The store's subdirectories that hold worlds' data, layers, stacks, journals, mountpoints and run tickets. */
export const PRIVATE_DIRS = ['worlds', 'stacks', 'journal', 'mnt', 'tickets'] as const;

/**
 * Make `home`'s data directories exist with mode 0700 (tightened when an older store left them
 * open). `home` itself keeps its mode: it may be a directory the user chose and shares.
 */
export function ensurePrivateStore(home: string): void {
  for (const name of PRIVATE_DIRS) {
    const dir = join(home, name);
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      if ((lstatSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
    } catch (e) {
      fromIo(e, 'make the store directory private', dir);
    }
  }
}
