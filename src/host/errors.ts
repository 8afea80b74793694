// Conversion of host failures (Node system errors, native addon errors) into FsError.
// Anything that is not a system error is a bug and is rethrown untouched, so it reaches the
// adapter's "unexpected" path (stack logged, EIO answered) instead of masquerading as ENOENT.
import { constants } from 'node:os';
import { FsError, type ErrnoCode } from '../core/errors.js';

const ERRNO = constants.errno as Record<string, number>;
const BY_NUMBER = new Map<number, string>(Object.entries(ERRNO).map(([k, v]) => [v, k]));

/** Turn a thrown host error into an FsError when it carries an errno; rethrow anything else. */
export function fromHost(e: unknown): never {
  if (e instanceof FsError) throw e;
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code in ERRNO) throw new FsError(code as ErrnoCode, (e as Error).message, { cause: e });
  // Native addons (napi-rs) report "... (os error N)".
  const m = /\(os error (\d+)\)/.exec((e as Error | null)?.message ?? '');
  const name = m ? BY_NUMBER.get(Number(m[1])) : undefined;
  if (name) throw new FsError(name as ErrnoCode, (e as Error).message, { cause: e });
  throw e;
}

/** Run `fn`, converting host errors to FsError. */
export function host<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    return fromHost(e);
  }
}

/** The errno code of a thrown host error, or undefined when it is not one. */
export function hostCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Throw the FsError for errno number `n` (as a native call returned it). */
export function fromErrno(n: number, message: string): never {
  const name = BY_NUMBER.get(n);
  throw new FsError((name ?? 'EIO') as ErrnoCode, `${name ?? `errno ${n}`}: ${message}`);
}
