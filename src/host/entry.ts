// lstat results turned into the resolver's RawEntry.
import { constants, type Stats } from 'node:fs';
import type { EntryKind } from '../core/whiteout/format.js';

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO, S_IFCHR, S_IFBLK } = constants;

/** The entry kind of a mode. */
export function kindOfMode(mode: number): EntryKind {
  switch (mode & S_IFMT) {
    case S_IFREG: return 'file';
    case S_IFDIR: return 'dir';
    case S_IFLNK: return 'symlink';
    case S_IFIFO: return 'fifo';
    case S_IFCHR: return 'chardev';
    case S_IFBLK: return 'blockdev';
    default: return 'socket';
  }
}

/** The entry kind of an lstat result. */
export function kindOf(st: Stats): EntryKind {
  return kindOfMode(st.mode);
}
