// Device nodes and fifos. Node has no mknod(2); coreutils' mknod does it without touching any mount.
import { execFileSync } from 'node:child_process';
import { fsError } from '../core/errors.js';

/** Create a fifo ('p'), character ('c') or block ('b') device at `path`, with permission bits `mode`. */
export function mknod(path: string, type: 'p' | 'c' | 'b', mode: number, major = 0, minor = 0): void {
  const args = ['-m', (mode & 0o7777).toString(8), '--', path, type];
  if (type !== 'p') args.push(String(major), String(minor));
  try {
    execFileSync('mknod', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? '');
    if (/File exists/.test(stderr)) throw fsError('EEXIST', path);
    if (/Operation not permitted/.test(stderr)) throw fsError('EPERM', path);
    if (/Permission denied/.test(stderr)) throw fsError('EACCES', path);
    if (/No such file/.test(stderr)) throw fsError('ENOENT', path);
    if (/No space/.test(stderr)) throw fsError('ENOSPC', path);
    throw fsError('EIO', `mknod ${path}: ${stderr.trim()}`);
  }
}

/** glibc's major()/minor() for a 32-bit encoded dev_t. */
export function splitDev(dev: number): { major: number; minor: number } {
  return { major: ((dev >>> 8) & 0xfff), minor: (dev & 0xff) | ((dev >>> 12) & 0xfff00) };
}
