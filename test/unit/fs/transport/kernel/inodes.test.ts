// The kernel transport's node table (fs/transport/kernel/inodes.ts): node ids for names, lookup
// counts and FORGET, hard links as one node, renames and unlinks, and no growth over many lookups.
import { describe, expect, it } from 'vitest';
import { InodeTable } from '../../../../../fs/transport/kernel/inodes.js';

describe('InodeTable', () => {
  it('gives a name one node id and counts each lookup of it', () => {
    const t = new InodeTable();
    const a = t.lookup(t.root, 'a', false, '1:10');
    const again = t.lookup(t.root, 'a', false, '1:10');
    expect(again).toBe(a);
    expect(a.nlookup).toBe(2);
    expect(t.pathOf(a)).toBe('/a');
    t.forget(a.id, 1);
    expect(t.get(a.id)).toBe(a);
    t.forget(a.id, 1);
    expect(t.get(a.id)).toBeUndefined();
  });

  it('builds paths through directories and keeps a forgotten directory while a child is known', () => {
    const t = new InodeTable();
    const d = t.lookup(t.root, 'd', true);
    const f = t.lookup(d, 'f', false, '1:11');
    expect(t.pathOf(f)).toBe('/d/f');
    t.forget(d.id, 1);
    expect(t.get(d.id)).toBe(d);
    t.forget(f.id, 1);
    expect(t.get(f.id)).toBeUndefined();
    expect(t.get(d.id)).toBeUndefined();
    expect(t.size).toBe(1);
  });

  it('makes every name of a hard link one node', () => {
    const t = new InodeTable();
    const a = t.lookup(t.root, 'a', false, '1:12', true);
    const b = t.lookup(t.root, 'b', false, '1:12', true);
    expect(b).toBe(a);
    expect(a.nlookup).toBe(2);
    t.unlinkName(t.root, 'b');
    expect(t.pathOf(a)).toBe('/a');
    t.unlinkName(t.root, 'a');
    expect(t.pathOf(a)).toBeUndefined(); // unlinked, still known to the kernel
    t.forget(a.id, 2);
    expect(t.size).toBe(1);
  });

  it('gives a name a new node when it shows another object', () => {
    const t = new InodeTable();
    const a = t.lookup(t.root, 'a', false, '1:13');
    const b = t.lookup(t.root, 'a', false, '1:14');
    expect(b.id).not.toBe(a.id);
    expect(t.pathOf(a)).toBeUndefined();
    const dir = t.lookup(t.root, 'a', true);
    expect(dir.id).not.toBe(b.id);
  });

  it('keeps the node of an object copied up by worldfs itself (setKey)', () => {
    const t = new InodeTable();
    const a = t.lookup(t.root, 'a', false, '1:15');
    t.setKey(a, '1:99');
    expect(t.lookup(t.root, 'a', false, '1:99')).toBe(a);
  });

  it('moves a renamed subtree and drops what the new name replaced', () => {
    const t = new InodeTable();
    const d = t.lookup(t.root, 'd', true);
    const f = t.lookup(d, 'f', false, '1:16');
    const e = t.lookup(t.root, 'e', true);
    const victim = t.lookup(e, 'd2', true);
    t.rename(t.root, 'd', e, 'd2');
    expect(t.pathOf(f)).toBe('/e/d2/f');
    expect(t.pathOf(victim)).toBeUndefined();
    expect(e.children.get('d2')).toBe(d);
    expect(t.root.children.has('d')).toBe(false);
  });

  it('swaps two names\' nodes in an exchange, subtrees following, and moves a known node opposite an unknown name', () => {
    const t = new InodeTable();
    const d = t.lookup(t.root, 'd', true);
    const inner = t.lookup(d, 'inner', false, '1:20');
    const e = t.lookup(t.root, 'e', true);
    const f = t.lookup(e, 'f', false, '1:21');
    t.exchange(t.root, 'd', e, 'f');
    expect(t.pathOf(d)).toBe('/e/f');
    expect(t.pathOf(inner)).toBe('/e/f/inner');
    expect(t.pathOf(f)).toBe('/d');
    expect([...t.root.children.keys()].sort()).toEqual(['d', 'e']);
    expect(d.links).toEqual([{ parent: e, name: 'f' }]);
    t.exchange(t.root, 'e', t.root, 'unknown'); // the kernel knew one of the two names only
    expect(t.pathOf(e)).toBe('/unknown');
    expect(t.root.children.has('e')).toBe(false);
    expect(t.pathOf(d)).toBe('/unknown/f');
  });

  it('stays flat over a million lookups and forgets (BATCH_FORGET after each walk)', () => {
    const t = new InodeTable();
    for (let round = 0; round < 1000; round++) {
      const d = t.lookup(t.root, `d${round % 7}`, true);
      const ids: number[] = [d.id];
      for (let i = 0; i < 999; i++) ids.push(t.lookup(d, `f${i}`, false, `1:${round * 1000 + i}`).id);
      for (const id of ids.reverse()) t.forget(id, 1);
    }
    expect(t.size).toBe(1);
  });

  it('ignores FORGET of the root and of unknown nodes', () => {
    const t = new InodeTable();
    t.forget(1, 5);
    t.forget(12345, 1);
    expect(t.get(1)).toBe(t.root);
  });

  it('gives non-directories no children: none listed, and adding one under a file is refused, not shared', () => {
    const t = new InodeTable();
    const f = t.lookup(t.root, 'f', false, '1:20');
    const g = t.lookup(t.root, 'g', false, '1:21');
    expect(f.children.size).toBe(0);
    expect(() => t.lookup(f, 'x', false, '1:22')).toThrow(/non-directory/);
    expect(g.children.size).toBe(0);
    expect(f.children.get('x')).toBeUndefined();
  });

  it('keeps every name of a hard link, the newest first, across lookups, renames and unlinks', () => {
    const t = new InodeTable();
    const a = t.lookup(t.root, 'a', false, '1:30');
    const b = t.lookup(t.root, 'b', false, '1:30', true);
    expect(b).toBe(a);
    expect(a.links.map((l) => l.name)).toEqual(['b', 'a']);
    t.rename(t.root, 'b', t.root, 'c');
    expect(a.links.map((l) => l.name)).toEqual(['c', 'a']);
    t.unlinkName(t.root, 'c');
    expect(a.links.map((l) => l.name)).toEqual(['a']);
    expect(t.pathOf(a)).toBe('/a');
  });
});
