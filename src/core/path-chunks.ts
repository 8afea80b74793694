// Host paths longer than a system call takes (PATH_MAX, 4,096 bytes with its NUL), cut into pieces
// that each fit: the directories are walked one chunk at a time through descriptors
// (src/host/long-path.ts), the last name is used relative to the last of them. Pure: no I/O.

/**
 * The longest host path, in UTF-8 bytes, handed to a system call as it is. Below PATH_MAX - 1 with
 * room to spare: the syscall addon copies paths into 4,096-byte buffers, and a chunk walked from a
 * descriptor is prefixed with nothing, but `/proc/self/fd/N/` is added to the last name.
 */
export const DIRECT_MAX = 4000;

/** Whether `path` may go to a system call as it is: a length test for every common path. */
export function isDirect(path: string): boolean {
  // A UTF-16 code unit is at most 3 UTF-8 bytes, so short strings need no byte count.
  return path.length * 3 <= DIRECT_MAX || Buffer.byteLength(path) <= DIRECT_MAX;
}

/** An absolute host path cut for walking: its parent directory in chunks, then its last name. */
export interface PathChunks {
  /** dirs[0] is absolute; each later one is relative to the one before; each at most `max` bytes. */
  readonly dirs: readonly string[];
  /** The last component (at most NAME_MAX bytes on any real filesystem). */
  readonly name: string;
}

/**
 * Cut the absolute `path` (no trailing '/', no empty, '.' or '..' components: a path joined from a
 * layer root and view names) into directory chunks of at most `max` bytes, cut at '/' only.
 * Throws (ENAMETOOLONG's case) when one component alone is longer than `max`.
 */
export function chunkPath(path: string, max = DIRECT_MAX): PathChunks {
  if (!path.startsWith('/')) throw new Error(`host path must be absolute, got ${JSON.stringify(path.slice(0, 80))}`);
  const parts = path.slice(1).split('/');
  const name = parts.pop()!;
  const dirs: string[] = [];
  let cur = '/';
  let bytes = 1;
  for (const part of parts) {
    const n = Buffer.byteLength(part);
    if (n + 1 > max) throw new Error(`a component of ${n} bytes cannot be walked`);
    const sep = cur === '' || cur === '/' ? 0 : 1;
    if (bytes + sep + n > max) {
      dirs.push(cur);
      cur = part;
      bytes = n;
    } else {
      cur += (sep ? '/' : '') + part;
      bytes += sep + n;
    }
  }
  dirs.push(cur);
  return { dirs, name };
}
