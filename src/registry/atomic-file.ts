// Replace a file atomically and durably: temp file in the same directory, write, fsync, rename,
// fsync the directory (crun's state.json discipline). Readers see the old or the new file, never a mix.

import { closeSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { errnoOf, fromIo } from './io-error.js';

/** The prefix of `path`'s temp files: `.<name>.`; each is `.<name>.<pid>.<random>.tmp`. */
function tempPrefix(path: string): string {
  return `.${basename(path)}.`;
}

/**
 * Make `path` hold exactly `data`, atomically. On failure the old file is untouched and the temp
 * file removed; failures are WorldError (READ_ONLY, NO_SPACE, IO). The caller must hold the lock
 * that serialises writers of `path`. `durable` false: nothing is fsynced, so after a crash the
 * file may be the old one, missing or torn: only for a file whose reader checks it and can do
 * without it (a run ticket).
 */
export function writeFileAtomic(path: string, data: string, mode = 0o600, { durable = true } = {}): void {
  const dir = dirname(path);
  const tmp = join(dir, `${tempPrefix(path)}${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    writeFileSync(fd, data);
    if (durable) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    if (errnoOf(e) !== 'EEXIST') removeQuietly(tmp);
    fromIo(e, `replace ${basename(path)}`, path);
  }
  if (durable) fsyncDirectory(dir, path);
}

/**
 * Remove temp files left by writers of `path` that died mid-write. Only safe while holding the
 * lock that serialises writers: then no temp file belongs to a live writer.
 */
export function removeStaleTemps(path: string): void {
  const prefix = tempPrefix(path);
  for (const name of readdirSync(dirname(path))) {
    if (name.startsWith(prefix) && name.endsWith('.tmp')) removeQuietly(join(dirname(path), name));
  }
}

function fsyncDirectory(dir: string, path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (e) {
    fromIo(e, `make the new ${basename(path)} durable (it is written, but may not survive a crash)`, dir);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone, or the filesystem refuses: nothing more to do
  }
}
