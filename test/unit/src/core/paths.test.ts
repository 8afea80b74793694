// View paths (src/core/paths.ts): normalisation and the small algebra the resolver builds on.
import { describe, expect, it } from 'vitest';
import {
  baseName, childOf, isWithin, parentOf, relJoin, relOf, ROOT, splitView, toViewPath, type ViewPath,
} from '../../../../src/core/paths.js';

const v = (p: string) => p as ViewPath;

describe('toViewPath', () => {
  it.for([
    ['/', '/'],
    ['/a', '/a'],
    ['/a/b', '/a/b'],
    ['/a/b/', '/a/b'],
    ['//a//b//', '/a/b'],
    ['/./a/./b/.', '/a/b'],
    ['/a/../b', '/b'],
    ['/a/b/../../c', '/c'],
    ['/a/..', '/'],
    ['/.', '/'],
    ['/a b/c\\d', '/a b/c\\d'],
    ['/...', '/...'],
    ['/..a/b..', '/..a/b..'],
  ])('normalises %j to %j', ([raw, want]) => {
    expect(toViewPath(raw)).toBe(want);
  });

  it.for(['/..', '/../a', '/a/../..', '/a/../../b', '//..'])('rejects %j, which escapes the root', (raw) => {
    expect(() => toViewPath(raw)).toThrow(/escapes the root/);
  });

  it.for(['', 'a', 'a/b', './a', '../a'])('rejects the relative path %j', (raw) => {
    expect(() => toViewPath(raw)).toThrow(/must be absolute/);
  });

  it('returns paths that are already normal unchanged, so normalising twice changes nothing', () => {
    for (const p of ['/', '/a', '/a/b/c', '/x y']) expect(toViewPath(toViewPath(p))).toBe(p);
  });
});

describe('path algebra', () => {
  it.for([
    ['/', '/'],
    ['/a', '/'],
    ['/a/b', '/a'],
    ['/a/b/c', '/a/b'],
  ])('the parent of %j is %j', ([p, want]) => {
    expect(parentOf(v(p))).toBe(want);
  });

  it.for([
    ['/a', 'a'],
    ['/a/b', 'b'],
    ['/a/.b c', '.b c'],
  ])('the base name of %j is %j', ([p, want]) => {
    expect(baseName(v(p))).toBe(want);
  });

  it.for([
    ['/', 'a', '/a'],
    ['/a', 'b', '/a/b'],
    ['/a/b', '.wh.c', '/a/b/.wh.c'],
  ])('the child of %j named %j is %j', ([dir, name, want]) => {
    expect(childOf(v(dir), name)).toBe(want);
  });

  it('childOf, parentOf and baseName undo each other', () => {
    for (const [dir, name] of [['/', 'a'], ['/a/b', 'c']] as const) {
      const c = childOf(v(dir), name);
      expect(parentOf(c)).toBe(dir);
      expect(baseName(c)).toBe(name);
    }
  });

  it.for([
    ['/a', '/', true],
    ['/', '/', true],
    ['/a', '/a', true],
    ['/a/b', '/a', true],
    ['/a/b/c', '/a', true],
    ['/ab', '/a', false],
    ['/a', '/a/b', false],
    ['/', '/a', false],
    ['/b/a', '/a', false],
  ] as const)('%j lies within %j: %s', ([p, ancestor, want]) => {
    expect(isWithin(v(p), v(ancestor))).toBe(want);
  });

  it.for([
    ['', 'a', 'a'],
    ['d', 'a', 'd/a'],
    ['d/e', '.wh.a', 'd/e/.wh.a'],
  ])('relJoin(%j, %j) is %j', ([rel, name, want]) => {
    expect(relJoin(rel, name)).toBe(want);
  });

  it.for([
    ['/', [], ''],
    ['/a', ['a'], 'a'],
    ['/a/b', ['a', 'b'], 'a/b'],
  ] as const)('%j splits into %j and is %j inside a layer', ([p, parts, rel]) => {
    expect(splitView(v(p))).toEqual(parts);
    expect(relOf(v(p))).toBe(rel);
  });

  it('ROOT is the normal form of the root', () => {
    expect(ROOT).toBe(toViewPath('/'));
  });
});
