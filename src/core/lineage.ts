// The layer order of a world with several parents, as a replaceable strategy (like WhiteoutFormat).
// Pure. c3Lineage follows Python's MRO (C3); depthFirstLineage is the simple alternative.

import { WorldError } from './world-error.js';

/**
 * Orders a world and all its ancestors, highest priority first: `[world, ...ancestors]`.
 * `parentsOf(w)` gives w's parents in the order the user listed them (first = highest priority);
 * it is called once per world. Throws WorldError('NO_LINEARISATION') on a cycle or when the
 * strategy finds no order; messages name the worlds by the strings `parentsOf` uses.
 */
export interface Lineage {
  readonly id: string;
  linearise(world: string, parentsOf: (w: string) => readonly string[]): string[];
}

/**
 * C3 linearisation: L(w) = w + merge(L(p1), ..., L(pn), [p1 ... pn]). Every world comes before its
 * parents, parents keep the order they were listed in, and each parent's own order is kept.
 * Refuses a world that lists the same parent twice (as Python refuses a duplicate base class).
 */
export const c3Lineage: Lineage = {
  id: 'c3',
  linearise: (world, parentsOf) => lineariseWith(world, parentsOf, (w, parents, orderOf) => {
    const twice = parents.find((p, i) => parents.indexOf(p) !== i);
    if (twice !== undefined) {
      throw new WorldError('NO_LINEARISATION', `world "${w}" lists parent "${twice}" twice; ` +
        'expected each parent once: remove the repeated parent');
    }
    const sources: Source[] = parents.map((p) => ({ items: orderOf(p), at: 0, from: `the order of "${p}"` }));
    sources.push({ items: parents, at: 0, from: `the parent list of "${w}"` });
    return merge(w, world, sources);
  }),
};

/**
 * First-parent depth-first order with duplicates removed keeping their *last* occurrence, so a
 * shared ancestor sits below every world that descends from it. Never refuses an acyclic graph.
 */
export const depthFirstLineage: Lineage = {
  id: 'depth-first',
  // dedupeLast([w, ...E(p1), ..., E(pn)]) from the parents' already deduplicated orders: an entry
  // of E(pi) survives only if no later parent's order contains it.
  linearise: (world, parentsOf) => lineariseWith(world, parentsOf, (_w, parents, orderOf) => {
    const later = new Set<string>();
    const parts: string[][] = [];
    for (let i = parents.length - 1; i >= 0; i--) {
      const order = orderOf(parents[i]!);
      parts.unshift(order.filter((x) => !later.has(x)));
      for (const x of order) later.add(x);
    }
    return parts.flat();
  }),
};

/** Every lineage, by id. Add a row to add a strategy; the unit-test table runs every row. */
export const LINEAGES: ReadonlyMap<string, Lineage> = new Map([
  [c3Lineage.id, c3Lineage],
  [depthFirstLineage.id, depthFirstLineage],
]);

/** The order below `w` (without w) from its parents and their orders (highest priority first). */
type Combine = (w: string, parents: readonly string[], orderOf: (p: string) => readonly string[]) => string[];

/**
 * Walk the ancestors once, then build each world's order after its parents'. Both strategies give
 * a one-parent world the order [w, ...order of its parent]; orders are stored reversed so that is a
 * push, and the parent's last child takes the parent's array over: a long chain costs O(n), not O(n²).
 */
function lineariseWith(world: string, parentsOf: (w: string) => readonly string[], combine: Combine): string[] {
  const graph = walk(world, parentsOf);
  const users = new Map<string, number>([[world, 1]]);
  for (const ps of graph.parents.values()) for (const p of new Set(ps)) users.set(p, (users.get(p) ?? 0) + 1);
  const reversed = new Map<string, string[]>();
  for (const w of graph.postorder) {
    const parents = graph.parents.get(w)!;
    let rev: string[];
    if (parents.length === 1 && users.get(parents[0]!) === 1) {
      rev = reversed.get(parents[0]!)!;
    } else if (parents.length === 1) {
      rev = reversed.get(parents[0]!)!.slice();
    } else {
      rev = combine(w, parents, (p) => reversed.get(p)!.slice().reverse()).reverse();
    }
    rev.push(w);
    reversed.set(w, rev);
    for (const p of new Set(parents)) {
      const left = users.get(p)! - 1;
      users.set(p, left);
      if (left === 0) reversed.delete(p);
    }
  }
  return reversed.get(world)!.reverse();
}

interface Graph {
  readonly postorder: readonly string[];                  // every world after all of its parents
  readonly parents: ReadonlyMap<string, readonly string[]>;
}

/** Reach every ancestor of `world` (iteratively: chains may be long), refusing cycles. */
function walk(world: string, parentsOf: (w: string) => readonly string[]): Graph {
  const parents = new Map<string, readonly string[]>();
  const done = new Set<string>();
  const postorder: string[] = [];
  const stack: { w: string; next: number }[] = [];
  const onStack = new Set<string>();
  const enter = (w: string): void => {
    parents.set(w, [...parentsOf(w)]);
    stack.push({ w, next: 0 });
    onStack.add(w);
  };
  enter(world);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const ps = parents.get(top.w)!;
    if (top.next === ps.length) {
      stack.pop();
      onStack.delete(top.w);
      done.add(top.w);
      postorder.push(top.w);
      continue;
    }
    const p = ps[top.next++]!;
    if (done.has(p)) continue;
    if (onStack.has(p)) {
      const path = stack.slice(stack.findIndex((f) => f.w === p)).map((f) => `"${f.w}"`);
      throw new WorldError('NO_LINEARISATION', `the parents of "${world}" form a cycle: ` +
        `${[...path, `"${p}"`].join(' → ')}; expected every world to descend from the base ` +
        'without returning to itself: the registry is damaged, check its parent refs');
    }
    enter(p);
  }
  return { postorder, parents };
}

interface Source {
  readonly items: readonly string[];
  at: number;            // items before `at` are already in the result
  readonly from: string; // where the sequence comes from, for messages
}

/**
 * C3 merge: repeatedly take the first head that is in no sequence's tail. `inTails` counts, per
 * world, the sequences holding it after their head, so each step is O(number of sequences).
 */
function merge(node: string, world: string, sources: Source[]): string[] {
  const inTails = new Map<string, number>();
  for (const s of sources) for (let k = 1; k < s.items.length; k++) inTails.set(s.items[k]!, (inTails.get(s.items[k]!) ?? 0) + 1);
  const out: string[] = [];
  for (;;) {
    let head: string | undefined;
    let live = false;
    for (const s of sources) {
      if (s.at >= s.items.length) continue;
      live = true;
      if (!inTails.get(s.items[s.at]!)) {
        head = s.items[s.at]!;
        break;
      }
    }
    if (!live) return out;
    if (head === undefined) throw noOrder(node, world, sources.filter((s) => s.at < s.items.length));
    out.push(head);
    for (const s of sources) {
      if (s.items[s.at] !== head) continue;
      s.at++;
      if (s.at < s.items.length) inTails.set(s.items[s.at]!, inTails.get(s.items[s.at]!)! - 1);
    }
  }
}

function noOrder(node: string, world: string, live: readonly Source[]): WorldError {
  const heads = [...new Set(live.map((s) => s.items[s.at]!))];
  const reasons = heads.map((h) => {
    const s = live.find((t) => t.items.indexOf(h, t.at + 1) >= 0)!;
    return `"${h}" must come after "${s.items[s.at]}" (${s.from})`;
  });
  const where = node === world ? `"${world}"` : `"${world}" (at its ancestor "${node}")`;
  return new WorldError('NO_LINEARISATION', `no consistent layer order for ${where}: ` +
    `${reasons.join('; ')}. Expected the parents' orders to agree: ` +
    `list the parents of "${node}" in an order that agrees with them, or drop one`, {
    hint: `the conflicting worlds are ${heads.map((h) => `"${h}"`).join(', ')}`,
  });
}
