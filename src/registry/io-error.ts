// Conversion of the store's filesystem failures into WorldError, in one place.
// Anything that is not a system error is a bug and is rethrown untouched.

import { WorldError } from '../core/world-error.js';

/** The errno name of a thrown Node system error, or undefined when it is not one. */
export function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/**
 * Throw the WorldError for a failed filesystem call: READ_ONLY for EROFS, NO_SPACE for ENOSPC and
 * EDQUOT, IO otherwise. `doing` completes "cannot ...", e.g. "write the registry".
 */
export function fromIo(e: unknown, doing: string, path: string): never {
  const code = errnoOf(e);
  if (code === undefined) throw e;
  if (code === 'EROFS') {
    throw new WorldError('READ_ONLY', `cannot ${doing}: ${path} is on a read-only filesystem; ` +
      'expected a writable store: remount it read-write, or point worldctl at a writable home', { cause: e });
  }
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    throw new WorldError('NO_SPACE', `cannot ${doing}: the filesystem holding ${path} is full (${code}); ` +
      'free some space and retry; the registry was left as it was', { cause: e });
  }
  throw new WorldError('IO', `cannot ${doing}: ${path}: ${code} (${(e as Error).message})`, { cause: e });
}
