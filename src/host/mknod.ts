// Device nodes, fifos and socket nodes, through mknod(2) (src/host/syscalls.ts).
import { constants } from 'node:fs';
import { mknodRaw } from './host-fs.js';

const TYPE = { p: constants.S_IFIFO, c: constants.S_IFCHR, b: constants.S_IFBLK, s: constants.S_IFSOCK } as const;

/**
 * Create a fifo ('p'), character ('c') or block ('b') device, or a socket node ('s': what bind(2)
 * of an AF_UNIX socket leaves, with no listener) at `path`, with permission bits `mode`.
 */
export function mknod(path: string, type: 'p' | 'c' | 'b' | 's', mode: number, major = 0, minor = 0): void {
  mknodRaw(path, TYPE[type] | (mode & 0o7777), major, minor);
}

/** glibc's major()/minor() for a 32-bit encoded dev_t. */
export function splitDev(dev: number): { major: number; minor: number } {
  return { major: ((dev >>> 8) & 0xfff), minor: (dev & 0xff) | ((dev >>> 12) & 0xfff00) };
}
