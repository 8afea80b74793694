// The top layer's memo (src/core/top-memo.ts): what it remembers, and exactly what a reported
// write makes it forget — the written name, its parent's markers, its own markers, and with
// `deep` everything remembered below it; nothing else.
import { describe, expect, it } from 'vitest';
import { TopMemo } from '../../../../src/core/top-memo.js';
import type { RawEntry } from '../../../../src/core/whiteout/format.js';

const DIR: RawEntry = { kind: 'dir', rdev: 0 };
const FILE: RawEntry = { kind: 'file', rdev: 0 };

/** A memo holding a small tree: a/ (opaque), a/b/ (redirected), a/b/f, a/c, an absent a/x, root's markers. */
function filled(): TopMemo {
  const m = new TopMemo();
  m.setEntry('a', DIR);
  m.setMarker('a', '.wh..wh..opq', 'y');
  m.setEntry('a/b', DIR);
  m.setMarker('a/b', '.wh..wh..redir', '/old');
  m.setEntry('a/b/f', FILE);
  m.setEntry('a/c', FILE);
  m.setEntry('a/x', undefined);
  m.setMarker('', '.wh..wh..opq', undefined);
  return m;
}

describe('TopMemo', () => {
  it('tells a remembered absence (null) from an answer it does not have (undefined)', () => {
    const m = filled();
    expect(m.entry('a/x')).toBeNull();
    expect(m.entry('a/y')).toBeUndefined();
    expect(m.entry('a/b/f')).toEqual(FILE);
    expect(m.marker('', '.wh..wh..opq')).toBeNull();
    expect(m.marker('a', '.wh..wh..opq')).toBe('y');
    expect(m.marker('a/c', '.wh..wh..opq')).toBeUndefined();
  });

  it('forgets a written name and its parent\'s markers, and keeps its siblings and the rest', () => {
    const m = filled();
    m.changed('a/c', true);
    expect(m.entry('a/c')).toBeUndefined();
    expect(m.marker('a', '.wh..wh..opq')).toBeUndefined(); // the name could have been the marker
    expect(m.entry('a/x')).toBeNull();
    expect(m.entry('a/b')).toEqual(DIR);
    expect(m.entry('a/b/f')).toEqual(FILE);
    expect(m.marker('a/b', '.wh..wh..redir')).toBe('/old');
    expect(m.entry('a')).toEqual(DIR);
  });

  it('forgets a marker file written inside a directory through the directory\'s markers', () => {
    const m = filled();
    m.changed('a/b/.wh..wh..redir', true);
    expect(m.marker('a/b', '.wh..wh..redir')).toBeUndefined();
    expect(m.entry('a/b/f')).toEqual(FILE);
    expect(m.entry('a/b')).toEqual(DIR);
  });

  it('forgets everything below a directory written deep (replaced, removed, renamed), and only that', () => {
    const m = filled();
    m.changed('a/b', true);
    expect(m.entry('a/b')).toBeUndefined();
    expect(m.entry('a/b/f')).toBeUndefined();
    expect(m.marker('a/b', '.wh..wh..redir')).toBeUndefined();
    expect(m.entry('a/c')).toEqual(FILE);
    // Remembered again from scratch afterwards.
    m.setEntry('a/b/g', FILE);
    expect(m.entry('a/b/g')).toEqual(FILE);
    m.changed('a', true);
    expect(m.entry('a/b/g')).toBeUndefined();
    expect(m.entry('a/c')).toBeUndefined();
    expect(m.marker('', '.wh..wh..opq')).toBeUndefined();
  });

  it('keeps what lies below a directory whose markers alone were written (deep false)', () => {
    const m = filled();
    m.changed('a/b', false);
    expect(m.marker('a/b', '.wh..wh..redir')).toBeUndefined();
    expect(m.entry('a/b/f')).toEqual(FILE);
  });

  it('forgets nothing else for a name it never remembered, and keeps a path that only shares a prefix', () => {
    const m = filled();
    m.setEntry('ab', DIR);
    m.setEntry('ab/z', FILE);
    m.changed('a/nothing/here', true);
    m.changed('a', true);
    expect(m.entry('ab/z')).toEqual(FILE);
    expect(m.entry('ab')).toEqual(DIR); // the root's entry for 'a' went, not its sibling's
  });

  it('for the root: deep forgets everything, otherwise only its markers', () => {
    const m = filled();
    m.changed('', false);
    expect(m.marker('', '.wh..wh..opq')).toBeUndefined();
    expect(m.entry('a')).toEqual(DIR);
    m.changed('', true);
    expect(m.entry('a')).toBeUndefined();
    expect(m.size).toBe(0);
  });

  it('counts what it holds and starts again past its bound', () => {
    const m = new TopMemo(3);
    m.setEntry('a', DIR);
    m.setEntry('a', DIR); // the same answer again is not one more
    m.setEntry('b', FILE);
    m.setMarker('a', 'm', 'v');
    expect(m.size).toBe(3);
    m.changed('a', true);
    expect(m.size).toBe(1);
    m.setEntry('c', FILE);
    m.setEntry('d', FILE);
    m.setEntry('e', FILE);
    expect(m.size).toBe(0);
    expect(m.entry('b')).toBeUndefined();
  });
});
