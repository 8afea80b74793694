// Test clients at any depth: a path past PATH_MAX is reached the way a process that `cd`s down
// reaches it — its directories opened chunk by chunk (following symlinks, as cd does), then the
// call made on `/proc/self/fd/N/<name>` — so the filesystem under test sees only short requests.
import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { chunkPath, isDirect } from '../../src/core/path-chunks.js';

/** `fn(p)` with `p` usable by any node:fs call for `path`, however long; descriptors closed after. */
export function atClientPath<T>(path: string, fn: (p: string) => T): T {
  if (isDirect(path)) return fn(path);
  const { dirs, name } = chunkPath(path);
  let fd = openSync(dirs[0]!, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    for (const d of dirs.slice(1)) {
      const next = openSync(`/proc/self/fd/${fd}/${d}`, constants.O_RDONLY | constants.O_DIRECTORY);
      closeSync(fd);
      fd = next;
    }
    return fn(`/proc/self/fd/${fd}/${name}`);
  } finally {
    closeSync(fd);
  }
}

/** The same for two paths (rename, link). */
export function atClientPaths<T>(a: string, b: string, fn: (a: string, b: string) => T): T {
  return atClientPath(a, (pa) => atClientPath(b, (pb) => fn(pa, pb)));
}

/** mkdir -p of `rel` (slash-separated, no leading slash) below the existing directory `root`. */
export function mkdirDeep(root: string, rel: string, mode = 0o755): void {
  let p = root;
  for (const part of rel.split('/').filter(Boolean)) {
    p += '/' + part;
    atClientPath(p, (q) => { try { mkdirSync(q, { mode }); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; } });
  }
}
