// /proc/self/mountinfo parsing (fs/mountinfo.ts): fields, optional tags, and the octal escapes the
// kernel writes for blanks and backslashes in paths. Pure: the text is given, /proc is not read.
import { describe, expect, it } from 'vitest';
import { findFuseMount, parseMountinfo, type MountEntry } from '../../../src/host/mountinfo.js';

const line = (id: number, mountpoint: string, optional: string, fstype: string, source: string) =>
  `${id} 1 0:${id} / ${mountpoint} rw,nosuid,nodev,relatime ${optional}${optional ? ' ' : ''}- ${fstype} ${source} rw,user_id=0,group_id=0`;

describe('parseMountinfo', () => {
  it.for([
    ['no optional fields', line(36, '/mnt/a', '', 'fuse.worldfs', 'myworld'), { id: 36, mountpoint: '/mnt/a', fstype: 'fuse.worldfs', source: 'myworld' }],
    ['one optional field', line(37, '/mnt/b', 'shared:1', 'ext4', '/dev/sda1'), { id: 37, mountpoint: '/mnt/b', fstype: 'ext4', source: '/dev/sda1' }],
    ['several optional fields', line(38, '/', 'shared:1 master:2 propagate_from:3', 'overlay', 'overlay'), { id: 38, mountpoint: '/', fstype: 'overlay', source: 'overlay' }],
    ['a blank in the mountpoint (\\040)', line(39, '/mnt/my\\040world', '', 'fuse.worldfs', 'worldfs'), { id: 39, mountpoint: '/mnt/my world', fstype: 'fuse.worldfs', source: 'worldfs' }],
    ['a tab and a newline (\\011, \\012)', line(40, '/mnt/a\\011b\\012c', '', 'tmpfs', 'tmpfs'), { id: 40, mountpoint: '/mnt/a\tb\nc', fstype: 'tmpfs', source: 'tmpfs' }],
    ['a backslash (\\134)', line(41, '/mnt/a\\134b', '', 'tmpfs', 'tmp\\040fs'), { id: 41, mountpoint: '/mnt/a\\b', fstype: 'tmpfs', source: 'tmp fs' }],
    ['an escaped backslash before digits, decoded once', line(42, '/mnt/a\\134040', '', 'tmpfs', 'x'), { id: 42, mountpoint: '/mnt/a\\040', fstype: 'tmpfs', source: 'x' }],
    ['a dash inside the mountpoint', line(43, '/mnt/a-b', '', 'fuse.worldfs', 'w-1'), { id: 43, mountpoint: '/mnt/a-b', fstype: 'fuse.worldfs', source: 'w-1' }],
  ] as const)('reads a line with %s', ([, text, want]) => {
    expect(parseMountinfo(text)).toEqual([{ ...want, root: '/', dev: `0:${want.id}` }]);
  });

  it('reads every line, in order, and skips blank lines and lines without the separator', () => {
    const text = [line(1, '/', '', 'ext4', '/dev/root'), '', 'garbage without a separator', line(2, '/mnt', '', 'fuse.worldfs', 'w'), ''].join('\n');
    expect(parseMountinfo(text).map((m) => m.id)).toEqual([1, 2]);
  });

  it('reads nothing from empty text', () => {
    expect(parseMountinfo('')).toEqual([]);
  });
});

describe('findFuseMount', () => {
  const m = (id: number, mountpoint: string, fstype: string): MountEntry => ({ id, mountpoint, fstype, source: 'x', root: '/', dev: `0:${id}` });

  it('finds the newest FUSE mount stacked on a mountpoint', () => {
    const mounts = [m(1, '/mnt', 'fuse.worldfs'), m(2, '/mnt', 'tmpfs'), m(3, '/mnt', 'fuse.worldfs'), m(4, '/other', 'fuse.worldfs')];
    expect(findFuseMount('/mnt', mounts)?.id).toBe(3);
  });

  it('accepts plain fuse and fuseblk types', () => {
    expect(findFuseMount('/mnt', [m(1, '/mnt', 'fuse')])?.id).toBe(1);
    expect(findFuseMount('/mnt', [m(1, '/mnt', 'fuseblk')])?.id).toBe(1);
  });

  it('finds nothing where only other filesystems are mounted', () => {
    expect(findFuseMount('/mnt', [m(1, '/mnt', 'tmpfs'), m(2, '/mnt/sub', 'fuse.worldfs')])).toBeUndefined();
  });
});
