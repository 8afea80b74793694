import { describe, expect, it } from 'vitest';
import { LINEAGES, c3Lineage, depthFirstLineage, type Lineage } from '../../../src/core/lineage.js';
import { WorldError } from '../../../src/core/world-error.js';
import { Prng } from '../../helpers/prng.js';

type Graph = Readonly<Record<string, readonly string[]>>;

function parentsIn(graph: Graph): (w: string) => readonly string[] {
  return (w) => {
    const ps = graph[w];
    if (!ps) throw new Error(`test graph has no world ${w}`);
    return ps;
  };
}

function failure(lineage: Lineage, world: string, graph: Graph): WorldError {
  try {
    lineage.linearise(world, parentsIn(graph));
  } catch (e) {
    expect(e).toBeInstanceOf(WorldError);
    return e as WorldError;
  }
  throw new Error(`expected ${lineage.id} to refuse ${world}`);
}

// The example of issue 3: base <- Parent; Child1, Child2 from Parent; Child3 from [Child1, Child2].
const DIAMOND: Graph = {
  base: [], Parent: ['base'], Child1: ['Parent'], Child2: ['Parent'], Child3: ['Child1', 'Child2'],
};

// Python 2.3 MRO document, first example: the orders differ between the two strategies.
const PY23: Graph = { O: [], F: ['O'], E: ['O'], D: ['O'], C: ['D', 'F'], B: ['D', 'E'], A: ['B', 'C'] };

// The classic inconsistent hierarchy: A orders X before Y, B orders Y before X.
const CROSSED: Graph = { O: [], X: ['O'], Y: ['O'], A: ['X', 'Y'], B: ['Y', 'X'], Z: ['A', 'B'] };

const LINEAGE_ROWS = [...LINEAGES.values()];

describe.each(LINEAGE_ROWS.map((l) => [l.id, l] as const))('every lineage (%s)', (_id, lineage) => {
  it('orders a world without parents as itself alone', () => {
    expect(lineage.linearise('base', parentsIn({ base: [] }))).toEqual(['base']);
  });

  it('orders a chain from the world down to the base', () => {
    expect(lineage.linearise('c', parentsIn({ base: [], a: ['base'], b: ['a'], c: ['b'] }))).toEqual(['c', 'b', 'a', 'base']);
  });

  it('orders the issue 3 diamond as Child3, Child1, Child2, Parent, base', () => {
    expect(lineage.linearise('Child3', parentsIn(DIAMOND))).toEqual(['Child3', 'Child1', 'Child2', 'Parent', 'base']);
  });

  it('puts a shared ancestor below every world descending from it', () => {
    const order = lineage.linearise('Child3', parentsIn(DIAMOND));
    expect(order.indexOf('Parent')).toBeGreaterThan(order.indexOf('Child2'));
  });

  it('lists every ancestor exactly once', () => {
    const order = lineage.linearise('A', parentsIn(PY23));
    expect([...order].sort()).toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'O']);
  });

  it('asks for the parents of each world only once', () => {
    const calls = new Map<string, number>();
    const base = parentsIn(DIAMOND);
    lineage.linearise('Child3', (w) => {
      calls.set(w, (calls.get(w) ?? 0) + 1);
      return base(w);
    });
    expect([...calls.values()].every((n) => n === 1)).toBe(true);
    expect(calls.size).toBe(5);
  });

  it('refuses a cycle with NO_LINEARISATION naming the worlds on it', () => {
    const e = failure(lineage, 'c', { base: [], a: ['c'], b: ['a'], c: ['b', 'base'] });
    expect(e.code).toBe('NO_LINEARISATION');
    expect(e.message).toContain('"c" → "b" → "a" → "c"');
  });

  it('refuses a world that is its own parent', () => {
    const e = failure(lineage, 'a', { a: ['a'] });
    expect(e.code).toBe('NO_LINEARISATION');
    expect(e.message).toMatch(/cycle: "a" → "a"/);
  });

  it('handles a chain of 20 000 worlds without overflowing the stack', () => {
    const n = 20_000;
    const order = lineage.linearise(`w${n}`, (w) => (w === 'w0' ? [] : [`w${Number(w.slice(1)) - 1}`]));
    expect(order).toHaveLength(n + 1);
    expect(order[0]).toBe(`w${n}`);
    expect(order[n]).toBe('w0');
  });

  it('returns a fresh array the caller may change', () => {
    const graph = parentsIn({ base: [], a: ['base'] });
    lineage.linearise('a', graph).push('junk');
    expect(lineage.linearise('a', graph)).toEqual(['a', 'base']);
  });
});

describe('c3Lineage', () => {
  it('orders the Python 2.3 MRO example as A B C D E F O', () => {
    expect(c3Lineage.linearise('A', parentsIn(PY23))).toEqual(['A', 'B', 'C', 'D', 'E', 'F', 'O']);
  });

  it('orders the Python 2.3 MRO second example (B(E, D)) as A B E C D F O', () => {
    const graph = { ...PY23, B: ['E', 'D'] };
    expect(c3Lineage.linearise('A', parentsIn(graph))).toEqual(['A', 'B', 'E', 'C', 'D', 'F', 'O']);
  });

  it('orders the Wikipedia C3 example as Z K1 K2 K3 D A B C E O', () => {
    const graph: Graph = {
      O: [], A: ['O'], B: ['O'], C: ['O'], D: ['O'], E: ['O'],
      K1: ['A', 'B', 'C'], K2: ['D', 'B', 'E'], K3: ['D', 'A'], Z: ['K1', 'K2', 'K3'],
    };
    expect(c3Lineage.linearise('Z', parentsIn(graph))).toEqual(['Z', 'K1', 'K2', 'K3', 'D', 'A', 'B', 'C', 'E', 'O']);
  });

  it('refuses crossed parent orders, naming both conflicting worlds and where each order comes from', () => {
    const e = failure(c3Lineage, 'Z', CROSSED);
    expect(e.code).toBe('NO_LINEARISATION');
    expect(e.message).toContain('no consistent layer order for "Z"');
    expect(e.message).toContain('"X" must come after "Y" (the order of "B")');
    expect(e.message).toContain('"Y" must come after "X" (the order of "A")');
    expect(e.hint).toBe('the conflicting worlds are "X", "Y"');
  });

  it('names the ancestor where the conflict lies when it is not the world asked about', () => {
    const e = failure(c3Lineage, 'top', { ...CROSSED, top: ['Z'] });
    expect(e.message).toContain('no consistent layer order for "top" (at its ancestor "Z")');
  });

  it('refuses a parent listed after its own ancestor that it must precede (Python: class B(O, A))', () => {
    const e = failure(c3Lineage, 'B', { O: [], A: ['O'], B: ['O', 'A'] });
    expect(e.code).toBe('NO_LINEARISATION');
    expect(e.message).toContain('"O" must come after "A" (the order of "A")');
    expect(e.message).toContain('(the parent list of "B")');
  });

  it('refuses a parent listed twice, as Python refuses a duplicate base class', () => {
    const e = failure(c3Lineage, 'a', { base: [], a: ['base', 'base'] });
    expect(e.code).toBe('NO_LINEARISATION');
    expect(e.message).toContain('world "a" lists parent "base" twice');
  });

  it('keeps the local order of parents and every parent order (monotonic) on random graphs', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const graph = randomDag(new Prng(seed), 12);
      let order: string[];
      try {
        order = c3Lineage.linearise('n11', parentsIn(graph));
      } catch (e) {
        expect((e as WorldError).code).toBe('NO_LINEARISATION');
        continue;
      }
      const pos = new Map(order.map((w, i) => [w, i]));
      for (const w of order) {
        const ps = graph[w]!;
        for (let i = 0; i < ps.length; i++) {
          expect(pos.get(ps[i]!)!).toBeGreaterThan(pos.get(w)!);
          if (i > 0) expect(pos.get(ps[i]!)!).toBeGreaterThan(pos.get(ps[i - 1]!)!);
        }
        const own = c3Lineage.linearise(w, parentsIn(graph)).map((x) => pos.get(x)!);
        expect(own).toEqual([...own].sort((a, b) => a - b));
      }
    }
  });
});

describe('depthFirstLineage', () => {
  it('orders the Python 2.3 example depth-first, keeping each last occurrence: A B E C D F O', () => {
    expect(depthFirstLineage.linearise('A', parentsIn(PY23))).toEqual(['A', 'B', 'E', 'C', 'D', 'F', 'O']);
  });

  it('orders crossed parent orders that C3 refuses', () => {
    expect(depthFirstLineage.linearise('Z', parentsIn(CROSSED))).toEqual(['Z', 'A', 'B', 'Y', 'X', 'O']);
  });

  it('tolerates a parent listed twice', () => {
    expect(depthFirstLineage.linearise('a', parentsIn({ base: [], a: ['base', 'base'] }))).toEqual(['a', 'base']);
  });

  it('equals the naive expand-then-dedupe definition on random graphs', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const graph = randomDag(new Prng(seed), 12);
      expect(depthFirstLineage.linearise('n11', parentsIn(graph))).toEqual(naiveDepthFirst('n11', graph));
    }
  });

  it('stays polynomial on 40 stacked diamonds (2^40 paths)', () => {
    const graph: Record<string, string[]> = { d0: [] };
    for (let i = 1; i <= 40; i++) {
      graph[`l${i}`] = [`d${i - 1}`];
      graph[`r${i}`] = [`d${i - 1}`];
      graph[`d${i}`] = [`l${i}`, `r${i}`];
    }
    expect(depthFirstLineage.linearise('d40', parentsIn(graph))).toHaveLength(121);
  });
});

describe('LINEAGES', () => {
  it('lists every lineage under its own id', () => {
    expect([...LINEAGES.keys()]).toEqual(['c3', 'depth-first']);
    for (const [id, l] of LINEAGES) expect(l.id).toBe(id);
  });
});

/** Worlds n0..n(size-1); each n(i>0) has 1-3 distinct parents among n0..n(i-1), in random order. */
function randomDag(rng: Prng, size: number): Graph {
  const graph: Record<string, string[]> = { n0: [] };
  for (let i = 1; i < size; i++) {
    const count = 1 + rng.int(Math.min(3, i));
    const ps = new Set<string>();
    while (ps.size < count) ps.add(`n${rng.int(i)}`);
    graph[`n${i}`] = [...ps];
  }
  return graph;
}

function naiveDepthFirst(world: string, graph: Graph): string[] {
  const expanded: string[] = [];
  const visit = (w: string): void => {
    expanded.push(w);
    for (const p of graph[w]!) visit(p);
  };
  visit(world);
  return expanded.filter((w, i) => expanded.lastIndexOf(w) === i);
}
