// PassthroughTable: which opens get a backing id, the kernel's one-backing-per-inode rule, and
// backing ids closed with a node's last passthrough handle. Real descriptors of temp files (the
// table fstats them); the ioctls are replaced by a recording BackingFiles.
import { chmodSync, closeSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dropsPrivsOnWrite, PassthroughTable, type BackingFiles } from '../../../../../fs/transport/kernel/passthrough.js';

let dir: string;
const fds: number[] = [];
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'worldos-pt-unit-')); });
afterEach(() => {
  for (const fd of fds.splice(0)) closeSync(fd);
  rmSync(dir, { recursive: true, force: true });
});

function fdOf(name: string): number {
  const p = join(dir, name);
  writeFileSync(p, name, { flag: 'a' });
  const fd = openSync(p, 'r');
  fds.push(fd);
  return fd;
}

/** Backing ids 1, 2, ... ; `refuse` makes open throw an Error with that code. */
function recorder(refuse?: string) {
  const log: string[] = [];
  let next = 1;
  const b: BackingFiles = {
    open(fd) {
      if (refuse) throw Object.assign(new Error(refuse), { code: refuse });
      log.push(`open ${fd}`);
      return next++;
    },
    close(id) { log.push(`close ${id}`); },
  };
  return { b, log };
}

describe('PassthroughTable', () => {
  it('serves every open itself until passthrough is enabled, and when the open does not want it', () => {
    const t = new PassthroughTable();
    expect(t.open(2, 10, fdOf('a'), true, true)).toBe(0);
    const { b, log } = recorder();
    t.enable(b);
    expect(t.open(3, 11, fdOf('b'), false, false)).toBe(0);
    expect(log).toEqual([]);
  });

  it('serves a read-only open that would rather be cached (not a fallback), unless its node is passthrough now', () => {
    const { b, log } = recorder();
    const t = new PassthroughTable();
    t.enable(b);
    expect(t.open(2, 10, fdOf('small'), true, false, undefined, true)).toBe(0);
    expect(log).toEqual([]);
    expect(t.counters).toEqual({ passthroughOpens: 0, passthroughFallbacks: 0 });
    const other = fdOf('other');
    expect(t.open(3, 11, other, true, false)).toBe(1);
    // One kernel inode is either passthrough or cached, never both at once: this one joins.
    expect(t.open(3, 12, fdOf('other'), true, false, undefined, true)).toBe(1);
    expect(log).toEqual([`open ${other}`]);
  });

  it('gives every open of a node the same backing id while one is open, and closes it with the last', () => {
    const { b, log } = recorder();
    const t = new PassthroughTable();
    t.enable(b);
    const a = fdOf('a');
    expect(t.open(2, 10, a, true, true)).toBe(1);
    expect(t.open(2, 11, fdOf('a'), true, true)).toBe(1);
    t.release(10);
    expect(log).toEqual([`open ${a}`]);
    t.release(11);
    expect(log).toEqual([`open ${a}`, 'close 1']);
    expect(t.backingIds).toBe(0);
    expect(t.counters.passthroughOpens).toBe(2);
  });

  it('answers conflict for another host file (a copy-up) or a served open while passthrough handles are open', () => {
    const { b } = recorder();
    const t = new PassthroughTable();
    t.enable(b);
    expect(t.open(2, 10, fdOf('lower'), true, true)).toBe(1);
    expect(t.open(2, 11, fdOf('upper'), true, true)).toBe('conflict');
    expect(t.open(2, 12, fdOf('lower'), false, false)).toBe('conflict');
    t.release(11); // never recorded: nothing happens
    t.release(10);
    expect(t.open(2, 13, fdOf('upper'), true, true)).toBe(2);
  });

  it('keeps a node with served handles served (the kernel would refuse passthrough), then passthrough again', () => {
    const { b } = recorder();
    const t = new PassthroughTable();
    t.enable(b);
    expect(t.open(2, 10, fdOf('a'), false, false)).toBe(0);
    expect(t.open(2, 11, fdOf('a'), true, true)).toBe(0);
    t.release(10);
    t.release(11);
    expect(t.open(2, 12, fdOf('a'), true, true)).toBe(1);
  });

  it('answers conflict for an open of another host file while served handles of the old one are open (a copy-up under them)', () => {
    const { b } = recorder();
    const t = new PassthroughTable();
    t.enable(b);
    const st = (name: string) => fstatSync(fdOf(name), { bigint: true });
    const lower = st('lower');
    expect(t.open(2, 10, fdOf('lower'), true, false, lower, true)).toBe(0); // served from the page cache
    expect(t.open(2, 11, fdOf('lower'), true, false, lower, true)).toBe(0); // the same file: shares it
    const upper = st('upper');
    expect(t.open(2, 12, fdOf('upper'), false, true, upper)).toBe('conflict');
    expect(t.open(2, 13, fdOf('upper'), true, true, upper, true)).toBe('conflict');
    expect(t.open(2, 14, fdOf('upper'), false, true)).toBe(0); // no identity given: nothing to compare
    t.release(10);
    t.release(11);
    t.release(14);
    expect(t.open(2, 15, fdOf('upper'), false, true, upper)).toBe(1); // the old copy's handles are gone
  });

  it('serves writing opens of setuid files (their writes must drop setuid), and read-only ones by passthrough', () => {
    const { b } = recorder();
    const t = new PassthroughTable();
    t.enable(b);
    const fd = fdOf('suid');
    chmodSync(join(dir, 'suid'), 0o4755);
    expect(t.open(2, 10, fd, false, true)).toBe(0);
    expect(t.open(3, 11, fdOf('other'), true, false)).toBe(1);
    expect(dropsPrivsOnWrite(0o2755)).toBe(true);
    expect(dropsPrivsOnWrite(0o2745)).toBe(false);
    expect(dropsPrivsOnWrite(0o755)).toBe(false);
  });

  it('falls back for one file on ELOOP, and for good on EPERM (no CAP_SYS_ADMIN)', () => {
    const loop = new PassthroughTable();
    loop.enable(recorder('ELOOP').b);
    expect(loop.open(2, 10, fdOf('a'), true, true)).toBe(0);
    expect(loop.enabled).toBe(true);
    const perm = new PassthroughTable();
    perm.enable(recorder('EPERM').b);
    expect(perm.open(2, 10, fdOf('a'), true, true)).toBe(0);
    expect(perm.enabled).toBe(false);
    expect(perm.counters.passthroughFallbacks).toBe(1);
  });
});
