// readSome (src/host/syscalls.c): read(2) that answers -errno instead of throwing, as the FUSE
// device and inotify read loops need it; on a real FIFO, non-blocking: the bytes queued, then
// -EAGAIN once it runs dry, and -EBADF for a closed descriptor.
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { constants as os, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { readSome } from '../../src/host/syscalls.js';

let dir: string;
let fd = -1;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'worldos-read-some-'));
  execFileSync('mkfifo', [join(dir, 'p')]);
  fd = openSync(join(dir, 'p'), constants.O_RDWR | constants.O_NONBLOCK); // O_RDWR: opening does not wait for a writer
});
afterEach(() => {
  if (fd >= 0) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

it('gives the bytes read, then -EAGAIN when the descriptor runs dry', () => {
  writeSync(fd, 'hello');
  const buf = Buffer.alloc(64);
  expect(readSome(fd, buf)).toBe(5);
  expect(buf.toString('utf8', 0, 5)).toBe('hello');
  expect(readSome(fd, buf)).toBe(-os.errno.EAGAIN);
});

it('reads no more than the buffer holds', () => {
  writeSync(fd, 'abcdef');
  const buf = Buffer.alloc(4);
  expect(readSome(fd, buf)).toBe(4);
  expect(readSome(fd, buf)).toBe(2);
  expect(buf.toString('utf8', 0, 2)).toBe('ef');
});

it('answers -EBADF for a closed descriptor, without throwing', () => {
  closeSync(fd);
  const closed = fd;
  fd = -1;
  expect(readSome(closed, Buffer.alloc(8))).toBe(-os.errno.EBADF);
});

it('throws a TypeError for arguments that are not a descriptor and a buffer', () => {
  expect(() => readSome(-1, Buffer.alloc(8))).toThrow(TypeError);
  expect(() => readSome(0, 'x' as unknown as Buffer)).toThrow(TypeError);
});
