// File types of modes (src/host/entry.ts): every type mknod(2) and lstat know, sockets included,
// and none for a type that is no file type (mknod answers EINVAL for it).
import { constants } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { kindOfMode } from '../../../../src/host/entry.js';

describe('kindOfMode', () => {
  it.each([
    [constants.S_IFREG | 0o644, 'file'],
    [constants.S_IFDIR | 0o755, 'dir'],
    [constants.S_IFLNK | 0o777, 'symlink'],
    [constants.S_IFIFO | 0o600, 'fifo'],
    [constants.S_IFCHR, 'chardev'],
    [constants.S_IFBLK, 'blockdev'],
    [constants.S_IFSOCK | 0o755, 'socket'],
  ])('reads mode %o as a %s', (mode, kind) => {
    expect(kindOfMode(mode)).toBe(kind);
  });

  it.each([0o030000, 0o050000, 0o070000, 0o110000, 0o130000, 0o150000, 0o170000])('knows no file type %o', (mode) => {
    expect(kindOfMode(mode)).toBeUndefined();
  });
});
