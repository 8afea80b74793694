// The node table's journal (fs/transport/kernel/node-journal.ts): replaying the calls made on a
// table rebuilds it exactly (ids, names, lookup counts, hard links), so does a snapshot, a torn
// last line is dropped, and a journal that is not the table's history is refused.
import { describe, expect, it } from 'vitest';
import { InodeTable, type Node } from '../../../../../fs/transport/kernel/inodes.js';
import { decodeCalls, encodeCall, JournaledInodeTable, replay, snapshot, type TableCall } from '../../../../../fs/transport/kernel/node-journal.js';

/** Everything the kernel relies on: each node's id, names in order, kind, lookup count, host key and detachment. */
function shape(t: InodeTable): string[] {
  return [...t.all()].map((n) => `${n.id} ${t.pathOf(n) ?? '(orphan)'} ${n.isDir ? 'd' : 'f'} ${n.nlookup} ${n.key ?? '-'} `
    + `${n.links.map((l) => `${l.parent.id}/${l.name}`).join(',')} ${n.detached ? 'detached' : ''} ${[...n.children.keys()].sort().join(',')}`).sort();
}

/** Whether directory `d` is `n` or below it (through each node's newest name). */
function holds(n: Node, d: Node): boolean {
  for (let x: Node | undefined = d, hops = 0; x && hops < 10_000; x = x.links[0]?.parent, hops++) if (x === n) return true;
  return false;
}

/** A seeded pseudo-random walk over lookups, forgets, unlinks, renames, exchanges, hard links and rekeys. */
function exercise(t: InodeTable, seed: number, steps: number): void {
  let s = seed;
  const rnd = (n: number) => { s = (s * 1103515245 + 12345) & 0x7fffffff; return s % n; };
  const names = ['a', 'b', 'c', 'd', 'x\ny', 'tab\there'];
  for (let i = 0; i < steps; i++) {
    const nodes = [...t.all()];
    const dirs = nodes.filter((n) => n.isDir && (n === t.root || n.links.length > 0));
    const dir = dirs[rnd(dirs.length)]!;
    const name = names[rnd(names.length)]!;
    const pick = (): Node => nodes[rnd(nodes.length)]!;
    switch (rnd(9)) {
      case 0: case 1: t.lookup(dir, name, rnd(3) === 0, rnd(2) ? `1:${rnd(20)}` : undefined, rnd(2) === 0); break;
      case 2: { const n = pick(); t.forget(n.id, 1 + rnd(2)); break; }
      case 3: t.unlinkName(dir, name); break;
      case 4: {
        const to = dirs[rnd(dirs.length)]!;
        const moved = dir.children.get(name);
        if (!(moved && holds(moved, to))) t.rename(dir, name, to, names[rnd(names.length)]!); // never into itself
        break;
      }
      case 5: { const n = pick(); if (!n.isDir) t.setKey(n, `2:${rnd(20)}`); break; }
      case 6: t.lookup(dir, name, false, `1:${rnd(5)}`, true); break;
      case 7: { const n = pick(); if (!n.isDir && n.links.length > 0) t.detach(n); break; }
      case 8: {
        // As the kernel allows: neither name's node holds the other's directory.
        const other = dirs[rnd(dirs.length)]!;
        const otherName = names[rnd(names.length)]!;
        const a = dir.children.get(name);
        const b = other.children.get(otherName);
        if (!(a && holds(a, other)) && !(b && holds(b, dir))) t.exchange(dir, name, other, otherName);
        break;
      }
    }
  }
}

describe('node journal', () => {
  it('replaying the calls made on a table rebuilds it exactly, over thousands of random operations', () => {
    for (const seed of [1, 7, 42, 1234]) {
      const calls: string[] = [];
      const t = new JournaledInodeTable((c) => calls.push(encodeCall(c)));
      exercise(t, seed, 3000);
      const back = replay(decodeCalls(calls.join('\n') + '\n'));
      expect(shape(back)).toEqual(shape(t));
      // New ids continue where the old daemon stopped: the kernel still holds the old ones.
      const d = t.lookup(t.root, 'fresh', true);
      expect(back.lookup(back.root, 'fresh', true).id).toBe(d.id);
    }
  });

  it('a snapshot rebuilds the table as it is (ids, names in order, counts, keys, detached nodes), and both go on alike', () => {
    for (const seed of [3, 11, 99]) {
      const t = new InodeTable();
      exercise(t, seed, 3000);
      const text = [...snapshot(t)].map(encodeCall).join('\n') + '\n';
      const back = replay(decodeCalls(text));
      expect(shape(back)).toEqual(shape(t));
      expect(back.nextNodeId).toBe(t.nextNodeId);
      exercise(t, seed + 1, 1000);
      exercise(back, seed + 1, 1000);
      expect(shape(back)).toEqual(shape(t));
    }
  });

  it('calls journaled after a snapshot replay on top of it', () => {
    const calls: TableCall[] = [];
    const t = new JournaledInodeTable((c) => calls.push(c));
    exercise(t, 5, 500);
    const snap = [...snapshot(t)];
    calls.length = 0;
    exercise(t, 6, 500);
    expect(shape(replay([...snap, ...calls]))).toEqual(shape(t));
  });

  it('logs only the calls made from outside: a lookup replacing a name is one call, not two', () => {
    const calls: TableCall[] = [];
    const t = new JournaledInodeTable((c) => calls.push(c));
    t.lookup(t.root, 'a', false, '1:1');
    t.lookup(t.root, 'a', true); // a directory now: the table unlinks the old name itself
    expect(calls.map((c) => c[0])).toEqual(['L', 'L']);
    expect(shape(replay(calls))).toEqual(shape(t));
  });

  it('drops a torn last line (the daemon killed mid-write) and refuses a journal that is not the table\'s history', () => {
    const text = `${encodeCall(['L', 1, 'a', true, null, false])}\n${encodeCall(['L', 2, 'b', false, '1:2', false])}\n["L",2,"c`;
    const t = replay(decodeCalls(text));
    expect(t.size).toBe(3);
    expect(() => decodeCalls('not json\n["F",1,1]\n')).toThrow(/line 1 is not a call/);
    expect(() => replay([['U', 99, 'a']])).toThrow(/node 99 is not in the table/);
  });
});
