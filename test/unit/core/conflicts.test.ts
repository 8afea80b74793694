// findConflicts: which paths a merge must not apply silently. Pure, no mount.
import { describe, expect, it } from 'vitest';
import { findConflicts, type MergedLayer } from '../../../src/core/merge/conflicts.js';

const layer = (world: string, seen: Record<string, string>, touched: Record<string, 'entry' | 'whiteout' | 'dir'>): MergedLayer =>
  ({ world, seen: new Map(Object.entries(seen)), touched: new Map(Object.entries(touched)) });

describe('findConflicts', () => {
  it('reports a changed path whose ancestor version changed since it was seen, not one that did not', () => {
    const now: Record<string, string> = { '/a': 'a2', '/b': 'b1' };
    const c = findConflicts([layer('C', { '/a': 'a1', '/b': 'b1' }, { '/a': 'entry', '/b': 'entry' })], (p) => now[p] ?? 'absent');
    expect(c).toEqual([{ path: '/a', world: 'C', seen: 'a1', now: 'a2' }]);
  });

  it('reports a path seen inside a directory the layer whited out, naming the directory', () => {
    const now: Record<string, string> = { '/d': 'dir', '/d/f': 'f2', '/d/g': 'g1' };
    const c = findConflicts([layer('C', { '/d': 'dir', '/d/f': 'f1', '/d/g': 'g1' }, { '/d': 'whiteout', '/e': 'entry' })], (p) => now[p] ?? 'absent');
    expect(c).toEqual([{ path: '/d/f', world: 'C', seen: 'f1', now: 'f2', removedWith: '/d' }]);
  });

  it('ignores what was seen under a directory the layer only merges into, and records of paths no longer changed', () => {
    const c = findConflicts([layer('C', { '/d/f': 'f1', '/gone': 'absent' }, { '/d': 'dir' })], () => 'changed');
    expect(c).toEqual([]);
  });

  it('lets the lowest merged layer decide a path', () => {
    const c = findConflicts([
      layer('C1', { '/a': 'a1' }, { '/a': 'entry' }),
      layer('C2', { '/a': 'a0' }, { '/a': 'entry' }),
    ], () => 'a1');
    expect(c).toEqual([]);
  });

  it('leaves to a lower merged layer what was seen under a directory it changed', () => {
    // Child1 moved d to e; Child3 saw e/g through Child1, then moved e away: the ancestor has no e yet.
    const c = findConflicts([
      layer('Child1', { '/d': 'dir' }, { '/d': 'whiteout', '/e': 'entry' }),
      layer('Child3', { '/e/g': 'g1' }, { '/e': 'whiteout', '/e2': 'entry' }),
    ], (p) => (p === '/d' ? 'dir' : 'absent'));
    expect(c).toEqual([]);
  });

  it('does not compare what was seen under a directory the layer moved there (a redirect: the ancestor has it under the old name)', () => {
    // Child1 renamed d to e, then changed e/f: the ancestor has no e/f, and d/f is decided by the whiteout of d.
    const c = findConflicts([layer('Child1', { '/e/f': 'f1', '/d': 'dir' }, { '/d': 'whiteout', '/e': 'entry' })], (p) => (p === '/d' ? 'dir' : 'absent'));
    expect(c).toEqual([]);
  });

  it('still checks a path under a directory a lower merged layer only merged into', () => {
    // Child1 added /etc/x (so /etc is a merged directory); Child2 deleted /etc/foo.d, whose file the ancestor changed.
    const now: Record<string, string> = { '/etc/foo.d/f': 'f2' };
    const c = findConflicts([
      layer('Child1', {}, { '/etc': 'dir', '/etc/x': 'entry' }),
      layer('Child2', { '/etc/foo.d/f': 'f1' }, { '/etc': 'dir', '/etc/foo.d': 'whiteout' }),
    ], (p) => now[p] ?? 'absent');
    expect(c).toEqual([{ path: '/etc/foo.d/f', world: 'Child2', seen: 'f1', now: 'f2', removedWith: '/etc/foo.d' }]);
  });
});
