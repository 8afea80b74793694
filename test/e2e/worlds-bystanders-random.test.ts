// Bystanders of a merge with real worlds (issue 13, point 3): random world graphs over a small
// base, each world changed through its own mount (files written, directories replaced or removed,
// files deleted), then a random merge. Every world that is not merged — some mounted during the
// merge, served on by the same daemon, the others mounted afresh — shows exactly the tree it
// showed before (test/helpers/tree-snapshot.ts: type, mode, owner, size, link count, data, xattrs).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lineage } from '../helpers/world-sim.js';
import { Prng } from '../helpers/prng.js';
import { diffSnapshots, snapshotTree } from '../helpers/tree-snapshot.js';
import { WorldsFixture } from '../helpers/worldctl.js';

let fx: WorldsFixture;
beforeEach(() => { fx = WorldsFixture.make('worldos-e2e-bystanders-'); });
afterEach(async () => { await fx.cleanup(); });

const NAMES = ['a', 'b'];

/** Random changes made through a world's mount: what the world's processes would do. */
function change(prng: Prng, root: string, world: string): void {
  // One path many worlds write (the p and q always, pq and qp never): its version depends
  // on the layer order.
  if (world === 'w2' || world === 'w3' || (world !== 'w4' && world !== 'w5' && prng.chance(0.5))) {
    try {
      rmSync(join(root, 'a', 'a'), { recursive: true, force: true });
      mkdirSync(join(root, 'a'), { recursive: true });
      writeFileSync(join(root, 'a', 'a'), `${world} wrote a/a\n`);
    } catch { /* a is a file in this view */ }
  }
  for (let i = 0; i < 6; i++) {
    const depth = 1 + prng.int(2);
    const rel = Array.from({ length: depth }, () => prng.pick(NAMES)).join('/');
    const p = join(root, rel);
    try {
      switch (prng.weighted({ write: 4, mkdir: 2, remove: 2 })) {
        case 'write':
          mkdirSync(join(p, '..'), { recursive: true });
          rmSync(p, { recursive: true, force: true });
          writeFileSync(p, `${world} wrote ${rel}\n`);
          break;
        case 'mkdir':
          rmSync(p, { recursive: true, force: true }); // a directory that replaces another is opaque
          mkdirSync(p, { recursive: true });
          writeFileSync(join(p, 'n'), `${world} made ${rel}\n`);
          break;
        case 'remove':
          rmSync(p, { recursive: true, force: true });
          break;
      }
    } catch { /* a parent is a file in this view: skip this change */ }
  }
}

const SEEDS = (process.env.WORLDOS_TEST_SEEDS ?? '1,2,3,4,5,6').split(',').map(Number);

describe('a random merge leaves every world it does not merge as it was', () => {
  it.each(SEEDS)('seed %i', async (seed) => {
    const prng = new Prng(seed);
    for (const top of NAMES) {
      mkdirSync(join(fx.base, top, 'b'), { recursive: true });
      writeFileSync(join(fx.base, top, 'a'), `base ${top}/a\n`);
      writeFileSync(join(fx.base, top, 'b', 'c'), `base ${top}/b/c\n`);
    }
    await fx.init();
    // A random graph: each world from one or two earlier ones (C3-consistent), changed through its mount.
    const graph = new Map<string, { parents: string[] }>([['base', { parents: [] }]]);
    // w1 from the base, w2 and w3 from w1, w4 from both and w5 from both the other way round (the
    // issue's p, q, pq and qp), then more at random.
    const n = 6 + prng.int(2);
    for (let i = 1; i <= n; i++) {
      const earlier = [...graph.keys()];
      const name = `w${i}`;
      let parents = [i === 1 ? 'base' : i <= 3 ? 'w1' : prng.pick(earlier.slice(1))];
      if (i === 4 || i === 5) parents = i === 4 ? ['w2', 'w3'] : ['w3', 'w2']; // the pq and qp
      else if (i > 5 && prng.chance(0.7)) {
        const second = prng.pick(earlier);
        if (second !== parents[0]) {
          graph.set(name, { parents: [parents[0]!, second] });
          try { lineage(graph, name); parents = [parents[0]!, second]; } catch { /* keep one parent */ }
        }
      }
      graph.set(name, { parents });
      await fx.ok(['create', name, ...parents.filter((p) => p !== 'base').flatMap((p) => ['--from', p])]);
      const mnt = await fx.mount(name);
      change(prng, mnt, name);
      await fx.umount(name);
    }
    const isAncestor = (a: string, of: string) => a !== of && lineage(graph, of).includes(a);
    const foldOf = (c: string, a: string) => lineage(graph, c).filter((w) => w !== a && (w === c || isAncestor(w, c)) && isAncestor(a, w));
    const bystandersOf = (c: string, a: string) => {
      const f = new Set(foldOf(c, a));
      return [...graph.keys()].filter((w) => !f.has(w) && w !== a && lineage(graph, w).some((x) => f.has(x)));
    };
    const pairs = [...graph.keys()].flatMap((c) => lineage(graph, c).slice(1).filter((a) => a !== 'base').map((a) => [c, a] as const));
    // Preferably a merge after which some bystander's layers come in another order: merged worlds
    // it stacked in another order than the child, or other worlds between them and the ancestor.
    const reorders = (c: string, a: string) => {
      const f = foldOf(c, a);
      const order = lineage(graph, c).filter((x) => f.includes(x));
      return bystandersOf(c, a).some((w) => {
        const lw = lineage(graph, w);
        const mine = lw.filter((x) => f.includes(x));
        const flipped = mine.some((x, i) => i > 0 && order.indexOf(mine[i - 1]!) > order.indexOf(x));
        return flipped || lw.slice(lw.indexOf(mine[0]!), lw.indexOf(a)).some((x) => !f.includes(x));
      });
    };
    if (pairs.length === 0) return;
    const preferred = pairs.filter(([c, a]) => reorders(c, a));
    const [child, into] = prng.pick(preferred.length > 0 ? preferred : pairs);
    const bystanders = bystandersOf(child, into);
    if (process.env.WORLDOS_TEST_STATS) console.error(`seed ${seed}: merge ${child} --into ${into} (folds ${foldOf(child, into)}), bystanders ${bystanders}, reorders ${reorders(child, into)}, graph ${JSON.stringify([...graph])}`);

    const mounted = new Map<string, string>();
    const before = new Map<string, ReturnType<typeof snapshotTree>>();
    for (const b of bystanders) {
      const mnt = await fx.mount(b);
      before.set(b, snapshotTree(mnt));
      if (prng.chance(0.5)) mounted.set(b, mnt);
      else await fx.umount(b);
    }
    // Conflicts (the ancestor's own version differs from what a merged world first saw) are decided
    // either way: the paths kept by the ancestor are what a merge leaves unapplied.
    const r = await fx.ctl(['merge', child, '--into', into, '--on-conflict', prng.pick(['child', 'parent'])]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    for (const b of bystanders) {
      const mnt = mounted.get(b) ?? await fx.mount(b);
      const diff = diffSnapshots(before.get(b)!, snapshotTree(mnt), ['before', 'after']);
      expect(diff, `merge ${child} --into ${into}: ${b} (${mounted.has(b) ? 'mounted during the merge' : 'mounted afresh'})`).toEqual([]);
    }
  });
});
