// openVerified (src/host/safe-open.ts) on a real temporary tree: the flags a FUSE OPEN carries
// (bits open(2) ignores, such as FMODE_EXEC) are taken, a mode given with O_DIRECTORY is no
// O_TMPFILE, a new file gets its mode, and a symlink anywhere in the path gives ELOOP.
import { closeSync, constants, fstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFsError } from '../../src/core/errors.js';
import { openVerified } from '../../src/host/safe-open.js';

const { O_RDONLY, O_DIRECTORY, O_CREAT, O_EXCL, O_WRONLY } = constants;
const FMODE_EXEC = 0o40; // set by the kernel in the flags of an OPEN for execve

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'worldos-safe-open-'));
  mkdirSync(join(base, 'd'));
  writeFileSync(join(base, 'd/f'), 'f');
  symlinkSync('d', join(base, 'link'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return isFsError(e) ? e.code : (e as NodeJS.ErrnoException).code;
  }
  return 'no error';
};

describe('openVerified', () => {
  it('opens a file with bits open(2) ignores, as an exec open carries them', () => {
    const fd = openVerified(join(base, 'd/f'), O_RDONLY | FMODE_EXEC);
    expect(fstatSync(fd).size).toBe(1);
    closeSync(fd);
  });

  it('opens a directory with a mode given (O_DIRECTORY alone is no O_TMPFILE)', () => {
    const fd = openVerified(join(base, 'd'), O_RDONLY | O_DIRECTORY);
    expect(readdirSync(`/proc/self/fd/${fd}`)).toEqual(['f']);
    closeSync(fd);
  });

  it('creates a file with the mode asked', () => {
    const fd = openVerified(join(base, 'd/new'), O_CREAT | O_EXCL | O_WRONLY, 0o640);
    expect(fstatSync(fd).mode & 0o777).toBe(0o640 & ~process.umask());
    closeSync(fd);
  });

  it('refuses a path through a symlink, or to one (ELOOP)', () => {
    expect(code(() => openVerified(join(base, 'link/f'), O_RDONLY))).toBe('ELOOP');
    expect(code(() => openVerified(join(base, 'link'), O_RDONLY))).toBe('ELOOP');
    expect(code(() => openVerified(join(base, 'd/none'), O_RDONLY))).toBe('ENOENT');
  });
});
