// The import plan of an OCI layer: every refusal rule, and the mapping of OCI whiteouts to each
// whiteout format, decided from headers alone (no disk).
import { describe, expect, it } from 'vitest';
import { WHITEOUT_FORMATS } from '../../../../src/core/whiteout/index.js';
import { aufsFormat } from '../../../../src/core/whiteout/aufs.js';
import { LayerProblems, planImport } from '../../../../src/oci/import-plan.js';
import type { TarEntry } from '../../../../src/oci/tar-entry.js';

function e(name: string, type = 'file', extra: Partial<TarEntry> = {}): TarEntry {
  return { name, type, mode: 0o644, uid: 0, gid: 0, size: 0, devmajor: 0, devminor: 0, mtimeNs: 1_000_000_000n, xattrs: new Map(), ...extra };
}

function refusal(entries: TarEntry[], canMknod = false): string {
  try {
    planImport(entries, aufsFormat, { canMknod });
  } catch (err) {
    expect(err).toBeInstanceOf(LayerProblems);
    return (err as Error).message;
  }
  throw new Error('expected the layer to be refused');
}

describe('planImport refuses bad layers whole, naming the entry', () => {
  it.each([
    ['an absolute path', [e('/etc/passwd')], /"\/etc\/passwd" is absolute/],
    ['a path with ..', [e('a/../../x')], /contains "\.\."/],
    ['a relative symlink leaving the root', [e('a/', 'directory'), e('a/l', 'symlink', { linkname: '../../etc' })], /symlink to "\.\.\/\.\.\/etc", outside/],
    ['an entry below a symlink of the archive', [e('l', 'symlink', { linkname: 'd' }), e('l/x')], /lies below "l", which the archive made a symlink/],
    ['an entry below a file of the archive', [e('f'), e('f/x')], /lies below "f"/],
    ['a hard link to a path outside', [e('h', 'link', { linkname: '../x' })], /hard link whose target contains "\.\."/],
    ['a hard link to nothing earlier', [e('h', 'link', { linkname: 'later' }), e('later')], /not an earlier file/],
    ['a device when not root', [e('dev/null', 'character-device', { devmajor: 1, devminor: 3 })], /only root may create/],
    ['union bookkeeping xattrs', [e('d/', 'directory', { xattrs: new Map([['trusted.overlay.redirect', Buffer.from('/x')]]) })], /bookkeeping xattrs \(trusted\.overlay\.redirect\)/],
    ['an entry and its whiteout in one layer', [e('x'), e('.wh.x')], /whites out "x", which the same layer also holds/],
    ['a name twice', [e('x'), e('x')], /appears twice/],
    ['a reserved whiteout name', [e('.wh..wh.plnk')], /reserved whiteout name/],
    ['an unknown entry type', [e('s', 'gnu-sparse')], /type "gnu-sparse"/],
    ['a binary xattr that was not stored exactly', [e('f', 'file', { lossyXattrs: ['security.capability'] })], /security\.capability with a binary value/],
  ])('%s', (_what, entries, message) => {
    expect(refusal(entries)).toMatch(message);
  });

  it('lists every problem, not just the first', () => {
    const msg = refusal([e('/a'), e('b/../../c')]);
    expect(msg).toMatch(/"\/a"/);
    expect(msg).toMatch(/"b\/\.\.\/\.\.\/c"/);
  });

  it('accepts absolute symlinks (paths of the world) and relative ones that stay inside', () => {
    const plan = planImport([e('etc/', 'directory'), e('etc/l', 'symlink', { linkname: '/usr/share/zoneinfo/UTC' }), e('etc/m', 'symlink', { linkname: '../usr/x' })], aufsFormat, { canMknod: false });
    expect(plan.steps.map((s) => s?.op)).toEqual(['dir', 'symlink', 'symlink']);
  });

  it('accepts devices as root', () => {
    const plan = planImport([e('null', 'character-device', { devmajor: 1, devminor: 3 })], aufsFormat, { canMknod: true });
    expect(plan.steps[0]).toMatchObject({ op: 'node', kind: 'chardev', major: 1, minor: 3 });
  });
});

describe('planImport maps OCI whiteouts to the store format', () => {
  for (const format of WHITEOUT_FORMATS.values()) {
    it(`${format.id}: .wh.<name> and .wh..wh..opq become the format's own ops`, () => {
      const plan = planImport([e('d/', 'directory'), e('d/.wh.gone'), e('o/', 'directory'), e('o/.wh..wh..opq')], format, { canMknod: true });
      expect(plan.steps[1]).toEqual({ op: 'layer-ops', dir: 'd', ops: format.whiteout('d', 'gone') });
      expect(plan.steps[3]).toEqual({ op: 'layer-ops', dir: 'o', ops: format.makeOpaque('o') });
    });
  }

  it('counts data bytes and finds implied parent directories', () => {
    const plan = planImport([e('a/b/c', 'file', { size: 10 }), e('a/', 'directory'), e('x', 'file', { size: 5 })], aufsFormat, { canMknod: false });
    expect(plan.dataBytes).toBe(15);
    expect(plan.implicitDirs).toEqual(['a/b']);
  });

  it('normalises ./ prefixes and keeps the root entry', () => {
    const plan = planImport([e('./', 'directory'), e('./a/', 'directory'), e('./a/f')], aufsFormat, { canMknod: false });
    expect(plan.steps.map((s) => (s && 'rel' in s ? s.rel : undefined))).toEqual(['', 'a', 'a/f']);
  });
});
