// The top layer's memo (src/core/top-memo.ts): what it remembers, and exactly what a reported
// write makes it forget — the written name (and the parent's marker of that name), its own
// markers, and with `deep` everything remembered below it; nothing else.
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

  it('forgets a written name, and keeps its siblings, its parent\'s markers and the rest', () => {
    const m = filled();
    m.changed('a/c', true);
    expect(m.entry('a/c')).toBeUndefined();
    expect(m.marker('a', '.wh..wh..opq')).toBe('y');
    expect(m.entry('a/x')).toBeNull();
    expect(m.entry('a/b')).toEqual(DIR);
    expect(m.entry('a/b/f')).toEqual(FILE);
    expect(m.marker('a/b', '.wh..wh..redir')).toBe('/old');
    expect(m.entry('a')).toEqual(DIR);
  });

  it('forgets a marker kept as an entry of a directory when that entry is written', () => {
    const m = filled();
    m.changed('a/b/.wh..wh..redir', true);
    expect(m.marker('a/b', '.wh..wh..redir')).toBeUndefined();
    m.changed('a/.wh..wh..opq', true);
    expect(m.marker('a', '.wh..wh..opq')).toBeUndefined();
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
    expect(m.marker('', '.wh..wh..opq')).toBeNull();
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

  it('counts what it holds (answers, nodes and directories) and starts again past its bound', () => {
    const m = new TopMemo({ maxItems: 5 });
    m.setEntry('a', DIR); // the root's directory memo, and the answer
    m.setEntry('a', DIR); // the same answer again is not one more
    m.setEntry('b', FILE);
    m.setMarker('a', 'm', 'v'); // a's directory memo, and the marker
    expect(m.size).toBe(5);
    m.changed('a', true);
    expect(m.size).toBe(2);
    m.setEntry('c', FILE);
    m.setEntry('d', FILE);
    m.setEntry('e', FILE);
    expect(m.size).toBe(5);
    m.setEntry('f', FILE); // one past the bound: everything goes
    expect(m.size).toBe(0);
    expect(m.entry('b')).toBeUndefined();
  });
});

const listed = (name: string, e: RawEntry) => ({ name, ...e });

describe('TopMemo: directories read whole', () => {
  it('answers a name a remembered listing lacks as absent, and the others as listed', () => {
    const m = new TopMemo();
    m.setListing('a', [listed('f', FILE), listed('d', DIR), listed('w', { kind: 'chardev', rdev: 0 })]);
    expect(m.entry('a/f')).toEqual(FILE);
    expect(m.entry('a/d')).toEqual(DIR);
    expect(m.entry('a/w')).toEqual({ kind: 'chardev', rdev: 0 });
    expect(m.entry('a/zz')).toBeNull();
    expect(m.entry('a/.wh.zz')).toBeNull();
    expect(m.entry('b/zz')).toBeUndefined(); // another directory: not listed
    expect(m.entry('a/d/x')).toBeUndefined(); // below it: not listed either
    expect(m.size).toBe(5); // the root's and a's directory memos, three answers
  });

  it('lets a listing replace the answers it remembered of the directory\'s entries', () => {
    const m = new TopMemo();
    m.setEntry('a/gone', FILE);
    m.setEntry('a/new', undefined);
    m.setListing('a', [listed('new', DIR)]);
    expect(m.entry('a/gone')).toBeNull();
    expect(m.entry('a/new')).toEqual(DIR);
    expect(m.size).toBe(3); // the root's and a's directory memos, one answer
  });

  it('takes a missing directory\'s empty listing: every name in it is absent until it is made', () => {
    const m = new TopMemo();
    m.setListing('n', []);
    expect(m.entry('n/x')).toBeNull();
    m.changed('n', true); // made (mkdir, rename, copy-up of its parent chain)
    expect(m.entry('n/x')).toBeUndefined();
  });

  it('stops answering for absent names once any name in the directory is written, and keeps the rest', () => {
    const m = new TopMemo();
    m.setListing('a', [listed('f', FILE), listed('g', FILE)]);
    m.changed('a/new', true); // created: the listing lacks it, and must not answer "absent" for it
    expect(m.entry('a/new')).toBeUndefined();
    expect(m.entry('a/other')).toBeUndefined();
    expect(m.entry('a/f')).toEqual(FILE);
    m.changed('a/g', true);
    expect(m.entry('a/g')).toBeUndefined();
  });

  it('keeps a listing through a change of the directory\'s own markers, not through a deep change of it or above', () => {
    const m = new TopMemo();
    m.setListing('a/b', [listed('f', FILE)]);
    m.changed('a/b', false);
    expect(m.entry('a/b/x')).toBeNull();
    m.changed('a', true);
    expect(m.entry('a/b/x')).toBeUndefined();
    expect(m.entry('a/b/f')).toBeUndefined();
  });

  it('does not remember a listing past its size bound, nor one that would pass the memo\'s', () => {
    const big = new TopMemo({ maxListing: 2 });
    big.setListing('a', [listed('f', FILE), listed('g', FILE), listed('h', FILE)]);
    expect(big.entry('a/x')).toBeUndefined();
    expect(big.entry('a/f')).toBeUndefined();
    const small = new TopMemo({ maxItems: 100 });
    small.setListing('a', Array.from({ length: 20 }, (_, i) => listed(`n${i}`, FILE)));
    expect(small.entry('a/x')).toBeNull();
    for (let i = 0; i < 15; i++) small.setEntry(`b/e${i}`, FILE);
    small.setListing('c', Array.from({ length: 20 }, (_, i) => listed(`n${i}`, FILE))); // 20 + 64 would pass 100
    expect(small.entry('c/x')).toBeUndefined();
    expect(small.entry('a/x')).toBeNull();
  });

  it('forgets a listing with everything else (a bound\'s lifetime, clear)', () => {
    const m = new TopMemo();
    m.setListing('a', [listed('f', FILE)]);
    m.clear();
    expect(m.entry('a/x')).toBeUndefined();
  });
});

/** A node as the resolver would remember it (the memo never looks into it). */
const node = (path: string) => ({ path });
const names = (path: string) => path.split('/').filter((n) => n !== '');

describe('TopMemo: the view\'s directory nodes', () => {
  /** Nodes remembered for /, /a, /a/b, /a/b/c and /z; entries for a/b's children. */
  function withNodes(): TopMemo<{ path: string }> {
    const m = new TopMemo<{ path: string }>({ isMarker: (n) => n.startsWith('.wh.') });
    for (const p of ['/', '/a', '/a/b', '/a/b/c', '/z']) m.remember(names(p), names(p).length, node(p));
    m.setEntry('a/b/f', FILE);
    return m;
  }
  const deepest = (m: TopMemo<{ path: string }>, p: string, upTo = names(p).length) => {
    const d = m.deepest(names(p), upTo);
    return d && [d.node.path, d.depth];
  };

  it('gives the deepest remembered directory on the way, up to the depth asked', () => {
    const m = withNodes();
    expect(deepest(m, '/a/b/c/x/y')).toEqual(['/a/b/c', 3]);
    expect(deepest(m, '/a/b/c')).toEqual(['/a/b/c', 3]);
    expect(deepest(m, '/a/b/c', 2)).toEqual(['/a/b', 2]);
    expect(deepest(m, '/q/r')).toEqual(['/', 0]);
    expect(new TopMemo().deepest(['a'], 1)).toBeUndefined();
  });

  it('forgets the nodes at and below a written name, and keeps those above and beside it', () => {
    const m = withNodes();
    m.changed('a/b', false); // a marker xattr on a/b
    expect(deepest(m, '/a/b/c/x')).toEqual(['/a', 1]);
    expect(deepest(m, '/z/x')).toEqual(['/z', 1]);
    expect(m.entry('a/b/f')).toEqual(FILE); // answers about entries below stay
    m.remember(names('/a/b'), 2, node('/a/b'));
    expect(deepest(m, '/a/b/c/x')).toEqual(['/a/b', 2]); // remembered again; c stays unknown
  });

  it('keeps a directory\'s node when an ordinary entry in it is written', () => {
    const m = withNodes();
    m.changed('a/b/f', true);
    expect(deepest(m, '/a/b/c/x')).toEqual(['/a/b/c', 3]);
    m.changed('a/b/c', true);
    expect(deepest(m, '/a/b/c/x')).toEqual(['/a/b', 2]);
  });

  it('forgets the nodes at and below a directory in which a marker name is written', () => {
    const m = withNodes();
    m.changed('a/b/.wh.c', true);
    expect(deepest(m, '/a/b/c/x')).toEqual(['/a', 1]);
    m.changed('.wh..wh..opq', true);
    expect(deepest(m, '/z/x')).toBeUndefined();
  });

  it('forgets every node when the root is written deep, and the root\'s and below for its markers', () => {
    const m = withNodes();
    m.changed('', false);
    expect(deepest(m, '/a/b/c')).toBeUndefined();
    expect(m.entry('a/b/f')).toEqual(FILE);
    m.changed('', true);
    expect(m.entry('a/b/f')).toBeUndefined();
  });
});

describe('TopMemo: bounded, when writes behind the daemon\'s back go unreported', () => {
  it('forgets everything once its lifetime is over, and not before', () => {
    let t = 0;
    const m = new TopMemo();
    m.bound({ ttlMs: 500, now: () => t, turn: () => 0 });
    m.setEntry('a', FILE);
    t = 499;
    expect(m.entry('a')).toEqual(FILE);
    t = 500;
    expect(m.entry('a')).toBeUndefined();
    m.setEntry('a', DIR); // a new lifetime begins with the first answer after
    t = 999;
    expect(m.entry('a')).toEqual(DIR);
  });

  it('with a lifetime of 0, keeps answers for one turn of the event loop', () => {
    let turn = 1;
    const m = new TopMemo<{ path: string }>();
    m.bound({ ttlMs: 0, now: () => 0, turn: () => turn });
    m.setEntry('a', FILE);
    m.remember(['a'], 1, { path: '/a' });
    expect(m.entry('a')).toEqual(FILE);
    expect(m.deepest(['a'], 1)?.depth).toBe(1);
    turn = 2;
    expect(m.deepest(['a'], 1)).toBeUndefined();
    expect(m.entry('a')).toBeUndefined();
  });

  it('is not bounded by an infinite lifetime (udba=none)', () => {
    const m = new TopMemo();
    m.bound({ ttlMs: Infinity, now: () => 0, turn: () => 0 });
    m.setEntry('a', FILE);
    expect(m.entry('a')).toEqual(FILE);
  });
});
