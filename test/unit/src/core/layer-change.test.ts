// From a change in one layer directory to the view names it may alter (src/core/layer-change.ts):
// whiteout and directory markers of each format, and redirects (absolute, relative, chained),
// which only layers above the changed one can apply.
import { describe, expect, it } from 'vitest';
import { Redirects, viewChangesOf, type LayerEvent } from '../../../../src/core/layer-change.js';
import { whiteoutFormat } from '../../../../src/core/whiteout/index.js';
import { TimedLowerCache } from '../../../../src/core/lower-cache.js';

const aufs = whiteoutFormat('aufs');
const overlay = whiteoutFormat('overlay');
const ev = (layer: number, dir: string, name: string): LayerEvent => ({ layer, dir, name });

describe('viewChangesOf', () => {
  it.each([
    ['a plain entry', aufs, ev(2, 'd', 'f'), [{ dir: 'd', name: 'f' }]],
    ['an entry of the root', aufs, ev(1, '', 'f'), [{ dir: '', name: 'f' }]],
    ['an aufs whiteout marker: the name it hides', aufs, ev(1, 'd', '.wh.f'), [{ dir: 'd', name: 'f' }]],
    ['an aufs opaque marker: the whole directory', aufs, ev(1, 'a/d', '.wh..wh..opq'), [{ dir: 'a', name: 'd' }]],
    ['an aufs redirect marker: the whole directory', aufs, ev(1, 'd', '.wh..wh..redir'), [{ dir: '', name: 'd' }]],
    ['an opaque marker on a layer root: every entry of the view root', aufs, ev(1, '', '.wh..wh..opq'), [{ dir: '', name: undefined }]],
    ['an aufs hashed marker (a 252-255 byte name\'s whiteout): the whole directory', aufs, ev(1, 'a/d', aufs.markerFor('x'.repeat(255))!), [{ dir: 'a', name: 'd' }]],
    ['another internal name (a work directory): nothing', aufs, ev(1, '', '.wh..wh.work'), []],
    ['an overlay whiteout (a 0/0 device under the name itself)', overlay, ev(1, 'd', 'f'), [{ dir: 'd', name: 'f' }]],
  ] as const)('maps %s', (_title, format, e, expected) => {
    expect(viewChangesOf(e, format, new Redirects())).toEqual(expected);
  });

  it('keeps a content-only change content-only for a plain entry, never for a marker', () => {
    const content = (layer: number, dir: string, name: string): LayerEvent => ({ layer, dir, name, contentOnly: true });
    expect(viewChangesOf(content(1, 'd', 'f'), aufs, new Redirects())).toEqual([{ dir: 'd', name: 'f', contentOnly: true }]);
    expect(viewChangesOf(content(1, 'd', '.wh.f'), aufs, new Redirects())).toEqual([{ dir: 'd', name: 'f' }]);
    expect(viewChangesOf(content(1, 'a/d', '.wh..wh..opq'), aufs, new Redirects())).toEqual([{ dir: 'a', name: 'd' }]);
  });

  it('maps a change below a redirected directory to the redirected view path too', () => {
    const r = new Redirects();
    r.set(0, 'new', '/old');
    expect(viewChangesOf(ev(1, 'old', 'f'), aufs, r)).toEqual([{ dir: 'old', name: 'f' }, { dir: 'new', name: 'f' }]);
    expect(viewChangesOf(ev(1, 'old/sub', 'f'), aufs, r)).toEqual([{ dir: 'old/sub', name: 'f' }, { dir: 'new/sub', name: 'f' }]);
  });
});

describe('Redirects', () => {
  it('applies only redirects recorded above the changed layer', () => {
    const r = new Redirects();
    r.set(2, 'new', '/old');
    expect(r.viewDirsOf(1, 'old')).toEqual(['old']);
    expect(r.viewDirsOf(2, 'old')).toEqual(['old']);
    expect(r.viewDirsOf(3, 'old').sort()).toEqual(['new', 'old']);
  });

  it('reads a relative redirect (overlayfs renames within one directory) as a sibling', () => {
    const r = new Redirects();
    r.set(0, 'a/new', 'old');
    expect(r.viewDirsOf(1, 'a/old/x').sort()).toEqual(['a/new/x', 'a/old/x']);
    expect(r.viewDirsOf(1, 'old')).toEqual(['old']);
  });

  it('follows chains of redirects and does not confuse a prefix of a name with a directory', () => {
    const r = new Redirects();
    r.set(0, 'c', '/b');
    r.set(1, 'b', '/a');
    expect(r.viewDirsOf(2, 'a/x').sort()).toEqual(['a/x', 'b/x', 'c/x']);
    expect(r.viewDirsOf(2, 'ab')).toEqual(['ab']);
  });

  it('forgets redirects removed, and every one below a directory that went', () => {
    const r = new Redirects();
    r.set(0, 'n', '/o');
    r.set(0, 'd/n2', '/o2');
    r.set(0, 'n', undefined);
    expect(r.viewDirsOf(1, 'o')).toEqual(['o']);
    r.dropUnder(0, 'd');
    expect(r.size).toBe(0);
  });
});

describe('a lower cache told of changes', () => {
  it('reads again the changed directory, and with deep everything below a replaced one, keeping the rest', () => {
    const cache = new TimedLowerCache({ ttlMs: Infinity, now: () => 0 });
    const keep = cache.record(1, 'keep');
    const d = cache.record(1, 'd');
    const below = cache.record(1, 'd/sub');
    const sibling = cache.record(1, 'dx');
    const other = cache.record(2, 'd');
    const memo = cache.memo();
    cache.changed(1, 'd', true);
    expect(cache.record(1, 'd')).not.toBe(d);
    expect(cache.record(1, 'd/sub')).not.toBe(below);
    expect([cache.record(1, 'keep'), cache.record(1, 'dx'), cache.record(2, 'd')]).toEqual([keep, sibling, other]);
    expect(cache.record(1, 'keep')).toBe(keep);
    // Resolutions are rebuilt from the records that remain.
    expect(memo.root(1)).toBeUndefined();
    const dir = cache.record(1, 'keep');
    cache.changed(1, '', false);
    expect(cache.record(1, 'keep')).toBe(dir);
  });

  it('lives no longer than a limit set later (changes stopped being reported)', () => {
    let now = 0;
    const cache = new TimedLowerCache({ ttlMs: Infinity, now: () => now });
    const r = cache.record(1, 'a');
    cache.limit(100);
    now = 99;
    expect(cache.record(1, 'a')).toBe(r);
    now = 100;
    expect(cache.record(1, 'a')).not.toBe(r);
  });
});
