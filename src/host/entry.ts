// lstat results turned into the resolver's RawEntry.
import { constants, type Stats } from 'node:fs';
import type { EntryKind } from '../core/whiteout/format.js';

const { S_IFMT, S_IFREG, S_IFDIR, S_IFLNK, S_IFIFO, S_IFCHR, S_IFBLK, S_IFSOCK } = constants;

/** The entry kind of a mode; undefined for a type that is none of them (mknod(2) answers EINVAL). */
export function kindOfMode(mode: number): EntryKind | undefined {
  switch (mode & S_IFMT) {
    case S_IFREG: return 'file';
    case S_IFDIR: return 'dir';
    case S_IFLNK: return 'symlink';
    case S_IFIFO: return 'fifo';
    case S_IFCHR: return 'chardev';
    case S_IFBLK: return 'blockdev';
    case S_IFSOCK: return 'socket';
    default: return undefined;
  }
}

/** The entry kind of a mode the host reported for an existing object (an unknown type is a bug). */
export function knownKindOfMode(mode: number): EntryKind {
  const kind = kindOfMode(mode);
  if (kind === undefined) throw new Error(`lstat reported an unknown file type: mode ${mode.toString(8)}`);
  return kind;
}

/** The entry kind of an lstat result. */
export function kindOf(st: Stats): EntryKind {
  return knownKindOfMode(st.mode);
}
