// The filesystem's one error currency: FsError carries an errno name (ENOENT, EXDEV, ...).
// It is mapped to a negative errno exactly once, in the FUSE adapter (fs/adapter.ts).

/** Errno names this project answers with; values come from os.constants.errno at the boundary. */
export type ErrnoCode =
  | 'EPERM' | 'ENOENT' | 'EIO' | 'EBADF' | 'EACCES' | 'EBUSY' | 'EEXIST' | 'EXDEV' | 'ENOTDIR'
  | 'EISDIR' | 'EINVAL' | 'ENOSPC' | 'EROFS' | 'EMLINK' | 'ENAMETOOLONG' | 'ENOTEMPTY' | 'ELOOP'
  | 'ENODATA' | 'EOPNOTSUPP' | 'ENOSYS' | 'ERANGE' | 'EFBIG' | 'EDQUOT' | 'ENXIO' | 'EAGAIN'
  | 'ETXTBSY' | 'EMFILE' | 'ENFILE' | 'ENOMEM' | 'E2BIG' | 'ESTALE' | 'EINTR';

/** A failure with a POSIX meaning. `code` is stable; callers test it, never the message. */
export class FsError extends Error {
  readonly code: ErrnoCode;
  constructor(code: ErrnoCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? code, options);
    this.name = 'FsError';
    this.code = code;
  }
}

/** Shorthand used by the operations: `throw fsError('ENOENT', path)`. */
export function fsError(code: ErrnoCode, detail?: string): FsError {
  return new FsError(code, detail ? `${code}: ${detail}` : code);
}

/** True when `e` is an FsError with one of the given codes. */
export function isFsError(e: unknown, ...codes: ErrnoCode[]): e is FsError {
  return e instanceof FsError && (codes.length === 0 || codes.includes(e.code));
}
