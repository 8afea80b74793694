// Filesystem operations as data, and the one executor that performs them on a directory tree with
// synchronous node:fs calls (the FUSE daemon under test is another process, so this is safe).
// Every outcome is a string: 'ok', 'ok:<digest>' for operations that return something, or the
// errno code (ENOENT, EXDEV, ...) the operation failed with — so two trees can be compared op by op.
import { createHash } from 'node:crypto';
import {
  chmodSync, closeSync, constants, ftruncateSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync,
  renameSync, rmdirSync, symlinkSync, unlinkSync, utimesSync, writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { atClientPath, atClientPaths } from './deep-path.js';
import { summarizeStat } from './tree-snapshot.js';
import { ROOT } from './worldfs.js';

const require = createRequire(import.meta.url);
const xattr = require('@napi-rs/xattr') as {
  setAttributeSync(path: string, name: string, value: string): void;
  removeAttributeSync(path: string, name: string): void;
};
/** mknod(2) from the project's syscall addon (Node has none); it throws errors with an errno `code`. */
const native = require(join(ROOT, 'dist', 'syscalls.node')) as { mknod(path: string, mode: number, major: number, minor: number): void };

/** One operation; paths are absolute view paths ('/a/b'), resolved against a root when applied. */
export type Op =
  | { kind: 'create'; path: string; mode: number; data: string }      // open(O_CREAT|O_EXCL) + write
  | { kind: 'write'; path: string; data: string }                      // open(O_CREAT|O_TRUNC) + write
  | { kind: 'append'; path: string; data: string }                     // open(O_CREAT|O_APPEND) + write
  | { kind: 'pwrite'; path: string; offset: number; data: string }     // open(O_WRONLY) + pwrite
  | { kind: 'truncate'; path: string; size: number }                   // open(O_RDWR) + ftruncate
  | { kind: 'unlink'; path: string }
  | { kind: 'mkdir'; path: string; mode: number }
  | { kind: 'rmdir'; path: string }
  | { kind: 'rename'; from: string; to: string }
  | { kind: 'link'; from: string; to: string }
  | { kind: 'symlink'; target: string; path: string }
  | { kind: 'chmod'; path: string; mode: number }                      // follows symlinks
  | { kind: 'utimes'; path: string; atime: number; mtime: number }     // follows symlinks
  | { kind: 'mkfifo'; path: string; mode: number }                     // mknod(S_IFIFO)
  | { kind: 'mksock'; path: string; mode: number }                     // mknod(S_IFSOCK), what bind(2) does
  | { kind: 'setxattr'; path: string; name: string; value: string }   // lsetxattr
  | { kind: 'removexattr'; path: string; name: string }                // lremovexattr
  | { kind: 'read'; path: string }                                     // whole content, compared by hash
  | { kind: 'list'; path: string }                                     // readdir, sorted
  | { kind: 'stat'; path: string };                                    // lstat, as a snapshot entry

export type OpKind = Op['kind'];

/** A one-line, human-readable form of an op (the JSON form is what replays it exactly). */
export function describeOp(op: Op): string {
  const o = (m: number) => '0' + m.toString(8);
  const d = (s: string) => `${s.length} bytes`;
  switch (op.kind) {
    case 'create': return `create ${op.path} mode ${o(op.mode)} (${d(op.data)})`;
    case 'write': return `write ${op.path} (${d(op.data)}, O_TRUNC)`;
    case 'append': return `append ${op.path} (${d(op.data)})`;
    case 'pwrite': return `pwrite ${op.path} at ${op.offset} (${d(op.data)})`;
    case 'truncate': return `truncate ${op.path} to ${op.size}`;
    case 'mkdir': return `mkdir ${op.path} mode ${o(op.mode)}`;
    case 'chmod': return `chmod ${op.path} ${o(op.mode)}`;
    case 'mkfifo': return `mkfifo ${op.path} mode ${o(op.mode)}`;
    case 'mksock': return `mknod S_IFSOCK ${op.path} mode ${o(op.mode)}`;
    case 'rename': return `rename ${op.from} -> ${op.to}`;
    case 'link': return `link ${op.from} -> ${op.to}`;
    case 'symlink': return `symlink ${op.path} -> ${JSON.stringify(op.target)}`;
    case 'utimes': return `utimes ${op.path} ${op.atime} ${op.mtime}`;
    case 'setxattr': return `setxattr ${op.path} ${op.name}=${JSON.stringify(op.value)}`;
    case 'removexattr': return `removexattr ${op.path} ${op.name}`;
    default: return `${op.kind} ${op.path}`;
  }
}

/** The view paths an op names (for printing their state when two trees disagree). */
export function pathsOf(op: Op): string[] {
  return 'from' in op ? [op.from, op.to] : [op.path];
}

const ERRNO_NAMES = new Map<number, string>();
for (const [name, n] of Object.entries(osConstants.errno)) if (!ERRNO_NAMES.has(n)) ERRNO_NAMES.set(n, name);

/**
 * The errno code of a failed call: node:fs errors carry `code`; @napi-rs/xattr reports
 * "... (os error N)". Anything else is not a filesystem answer but a bug in the test: rethrown.
 */
export function errorCode(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
  const m = /\(os error (\d+)\)/.exec(String((e as Error | null)?.message));
  if (m) return ERRNO_NAMES.get(Number(m[1])) ?? `errno ${m[1]}`;
  throw e;
}

const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_EXCL, O_TRUNC, O_APPEND, O_NONBLOCK } = constants;

/** Apply `op` to the tree at `root`; returns 'ok', 'ok:<digest>' or an errno code. */
export function applyOp(root: string, op: Op): string {
  try {
    // Paths past PATH_MAX are reached through directory descriptors, as a process deep down would.
    if ('from' in op) return atClientPaths(root + op.from, root + op.to, (from, to) => run({ ...op, from, to }, ''));
    return atClientPath(root + op.path, (path) => run({ ...op, path } as Op, ''));
  } catch (e) {
    return errorCode(e);
  }
}

function run(op: Op, root: string): string {
  const at = (p: string) => root + p;
  try {
    switch (op.kind) {
      // O_NONBLOCK everywhere data is opened: a fifo must answer ENXIO, not hang the test.
      case 'create': return writeData(at(op.path), O_WRONLY | O_CREAT | O_EXCL, op.data, null, op.mode);
      case 'write': return writeData(at(op.path), O_WRONLY | O_CREAT | O_TRUNC, op.data, null);
      case 'append': return writeData(at(op.path), O_WRONLY | O_CREAT | O_APPEND, op.data, null);
      case 'pwrite': return writeData(at(op.path), O_WRONLY, op.data, op.offset);
      case 'truncate': {
        const fd = openSync(at(op.path), O_RDWR | O_NONBLOCK);
        try { ftruncateSync(fd, op.size); } finally { closeSync(fd); }
        return 'ok';
      }
      case 'unlink': unlinkSync(at(op.path)); return 'ok';
      case 'mkdir': mkdirSync(at(op.path), { mode: op.mode }); return 'ok';
      case 'rmdir': rmdirSync(at(op.path)); return 'ok';
      case 'rename': renameSync(at(op.from), at(op.to)); return 'ok';
      case 'link': linkSync(at(op.from), at(op.to)); return 'ok';
      case 'symlink': symlinkSync(op.target, at(op.path)); return 'ok';
      case 'chmod': chmodSync(at(op.path), op.mode); return 'ok';
      case 'utimes': utimesSync(at(op.path), op.atime, op.mtime); return 'ok';
      case 'mkfifo': mkfifoSync(at(op.path), op.mode); return 'ok';
      case 'mksock': mksockSync(at(op.path), op.mode); return 'ok';
      case 'setxattr': xattr.setAttributeSync(at(op.path), op.name, op.value); return 'ok';
      case 'removexattr': xattr.removeAttributeSync(at(op.path), op.name); return 'ok';
      case 'read': {
        const fd = openSync(at(op.path), O_RDONLY | O_NONBLOCK);
        try {
          const data = readFileSync(fd);
          return `ok:${data.length}:${createHash('sha1').update(data).digest('hex').slice(0, 12)}`;
        } finally {
          closeSync(fd);
        }
      }
      case 'list': return `ok:[${readdirSync(at(op.path)).sort().join(',')}]`;
      case 'stat': return `ok:${summarizeStat(lstatSync(at(op.path)))}`;
    }
  } catch (e) {
    return errorCode(e);
  }
}

function writeData(path: string, flags: number, data: string, position: number | null, mode = 0o666): string {
  const fd = openSync(path, flags | O_NONBLOCK, mode);
  try {
    const buf = Buffer.from(data);
    let done = 0;
    while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position === null ? null : position + done);
  } finally {
    closeSync(fd);
  }
  return 'ok';
}

/** mkfifo(3): mknod(2) with S_IFIFO; the mode is subject to the umask, as with mkfifo. */
export function mkfifoSync(path: string, mode: number): void {
  native.mknod(path, constants.S_IFIFO | (mode & 0o7777), 0, 0);
}

/**
 * mknod(2) with S_IFSOCK: a socket node with no listener, made by the same filesystem operation
 * bind(2) of an AF_UNIX socket uses; the mode is subject to the umask.
 */
export function mksockSync(path: string, mode: number): void {
  native.mknod(path, constants.S_IFSOCK | (mode & 0o7777), 0, 0);
}
