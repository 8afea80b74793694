// One tar entry as the OCI code sees it, independent of the tar library. Pure.

/** The entry types an OCI layer may hold (tar-stream's names). */
export type TarType = 'file' | 'directory' | 'symlink' | 'link' | 'fifo' | 'character-device' | 'block-device';

export interface TarEntry {
  /** The name as written in the archive (checked and normalised by the import plan). */
  readonly name: string;
  /** A TarType, or whatever else the archive said (refused by the import plan). */
  readonly type: string;
  /** Permission bits with setuid/setgid/sticky (no file type bits). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  /** Bytes of data (regular files). */
  readonly size: number;
  /** Symlink target, or the archive path a hard link names. */
  readonly linkname?: string;
  readonly devmajor: number;
  readonly devminor: number;
  /** Modification time, nanoseconds since the epoch. */
  readonly mtimeNs: bigint;
  readonly xattrs: ReadonlyMap<string, Buffer>;
  /** Xattr names whose values could not be read back exactly (see pax.ts). */
  readonly lossyXattrs?: readonly string[];
}

/** Linux's dev_t split, as glibc's major()/minor() (safe for numbers below 2^53). */
export function devMajor(rdev: number): number {
  return ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff);
}

export function devMinor(rdev: number): number {
  return (rdev & 0xff) | ((rdev >>> 12) & ~0xff & 0xfffff);
}
