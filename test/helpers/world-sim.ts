// Test helper: a world graph held in memory — random DAGs of worlds, each with a random layer of
// MemoryLayer entries tagged with an identity (xattr user.id) — and in-memory twins of what a merge
// does on disk: the bystanders' copies (src/worlds/protect.ts) and the merge steps
// (src/host/apply-merge.ts), so the pure planners can be checked end to end without a disk.
import { c3Lineage } from '../../src/core/lineage.js';
import { mergeListings } from '../../src/core/listing.js';
import type { BystanderPin } from '../../src/core/merge/bystanders.js';
import type { LayerReader, MergeStep } from '../../src/core/merge/plan.js';
import { childOf, parentOf, relOf, toViewPath, type ViewPath } from '../../src/core/paths.js';
import { isUpper, lookupChild, resolve, rootNode, type ChildLookup, type ViewNode } from '../../src/core/resolve.js';
import type { WhiteoutFormat } from '../../src/core/whiteout/format.js';
import { buildLayer, MemoryLayers, type LayerSpec, type MemNode, type MemoryLayer } from './memory-layers.js';
import type { Prng } from './prng.js';

export const ID = 'user.id';

/** Worlds by id ('w0' is the base): parents (highest priority first) and own layer. */
export type Sim = Map<string, { parents: string[]; layer: MemoryLayer }>;

/** [world, ...ancestors] in C3 order; throws (NO_LINEARISATION) when there is none. */
export function lineage(graph: ReadonlyMap<string, { parents: readonly string[] }>, id: string): string[] {
  return c3Lineage.linearise(id, (w) => graph.get(w)!.parents);
}

/** A stack readable by the merge planner too (no metacopy in these layers). */
export class SimStack extends MemoryLayers implements LayerReader {
  hostPath(layer: number, rel: string): string { return `${layer}:${rel}`; }
  isMetacopy(): boolean { return false; }
}

export function stackOf(sim: Sim, graph: ReadonlyMap<string, { parents: readonly string[] }>, id: string, format: WhiteoutFormat): SimStack {
  return new SimStack(lineage(graph, id).map((w) => sim.get(w)!.layer), format);
}

/** A random layer: names a, b, c, up to three levels; the base holds files and directories only; `redirects`: some renamed directories. */
function randomSpec(prng: Prng, isBase: boolean, redirects: boolean): LayerSpec {
  const spec: Record<string, string> = {};
  const fill = (rel: string, depth: number) => {
    for (const name of ['a', 'b', 'c']) {
      if (prng.chance(isBase ? 0.3 : 0.5)) continue;
      const p = rel === '' ? name : `${rel}/${name}`;
      const kind = isBase ? prng.weighted({ file: 1, dir: 1 }) : prng.weighted({ file: 4, dir: 3, opaque: 1, whiteout: 2, renamed: redirects ? 1 : 0 });
      // A renamed directory: its lower contents live at another path (the rename's whiteout left aside).
      spec[p] = kind === 'opaque' ? 'dir opaque' : kind === 'renamed' ? `dir redirect=/${prng.pick(['a', 'b', 'c', 'a/b', 'b/c'])}` : kind;
      if (kind !== 'file' && kind !== 'whiteout' && depth < 2) fill(p, depth + 1);
    }
  };
  fill('', 0);
  return spec;
}

/** A random graph of 1 + n worlds, each created from one or two earlier ones, with random layers. */
export function randomSim(prng: Prng, format: WhiteoutFormat, redirects = false, n = 4 + prng.int(6)): Sim {
  const sim: Sim = new Map();
  const add = (id: string, parents: string[]) => {
    const spec = randomSpec(prng, parents.length === 0, redirects);
    const layer = buildLayer(spec, format);
    for (const [rel, kind] of Object.entries(spec)) {
      if (kind !== 'whiteout') layer.apply({ op: 'set-xattr', rel, name: ID, value: `${id}:${rel}` });
    }
    sim.set(id, { parents, layer });
  };
  add('w0', []);
  for (let i = 1; i <= n; i++) {
    const earlier = [...sim.keys()];
    const first = prng.pick(earlier);
    let parents = [first];
    if (i > 1 && prng.chance(0.5)) {
      const second = prng.pick(earlier);
      if (second !== first) parents = [first, second];
    }
    if (parents.length === 2) {
      sim.set(`w${i}`, { parents, layer: undefined as never });
      try { lineage(sim, `w${i}`); } catch { parents = [first]; }
      sim.delete(`w${i}`);
    }
    add(`w${i}`, parents);
  }
  return sim;
}

const tag = (stack: MemoryLayers, layer: number, rel: string) => stack.layer(layer).node(rel)?.xattrs.get(ID) ?? '-';

/** Every path of a view: its kind and the identity of its top object. */
export function viewSnapshot(stack: MemoryLayers, format: WhiteoutFormat): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (node: ViewNode) => {
    for (const name of mergeListings(node.branches.map((b) => stack.list(b.layer, b.rel)), format).sort()) {
      const r = lookupChild(node, name, stack, format);
      const p = childOf(node.path, name);
      if (r.kind === 'absent') { out.set(p, 'listed but absent'); continue; }
      const top = r.node.branches[0]!;
      out.set(p, `${r.node.entry.kind} ${tag(stack, top.layer, top.rel)}`);
      if (r.node.entry.kind === 'dir') walk(r.node);
    }
  };
  walk(rootNode(stack));
  return out;
}

/** The in-memory twin of src/worlds/protect.ts pinPaths: stack[0] is the bystander's layer. */
export function applyPins(stack: MemoryLayers, pins: readonly BystanderPin[]): void {
  const format = stack.format;
  const top = stack.layer(0);
  const copyUp = (node: ViewNode) => {
    if (isUpper(node)) return;
    copyUp(resolveDir(stack, parentOf(node.path)));
    const b = node.branches[0]!;
    top.create(relOf(node.path), { kind: 'dir', rdev: 0, xattrs: new Map([[ID, tag(stack, b.layer, b.rel)]]), children: new Map() });
  };
  const copy = (node: ViewNode) => {
    copyUp(resolveDir(stack, parentOf(node.path)));
    const b = node.branches[0]!;
    const n = stack.layer(b.layer).node(b.rel)!;
    top.put(relOf(node.path), { ...n, xattrs: new Map(n.xattrs) });
  };
  const fill = (node: ViewNode) => {
    copyUp(node);
    if (node.branches.length === 1 && isUpper(node)) return;
    for (const name of mergeListings(node.branches.map((b) => stack.list(b.layer, b.rel)), format)) {
      const child = lookupChild(node, name, stack, format);
      if (child.kind !== 'found') continue;
      if (child.node.entry.kind === 'dir') fill(child.node);
      else if (!isUpper(child.node) && !top.node(relOf(child.node.path))) copy(child.node);
    }
  };
  for (const pin of pins) {
    const path = toViewPath(pin.path);
    let r: ChildLookup;
    try { r = resolve(path, stack, format); } catch { continue; }
    if (r.kind === 'absent') {
      if (r.whiteoutAt === 0 || (isUpper(r.parent) && stack.isOpaque(0, relOf(r.parent.path)))) continue;
      copyUp(r.parent);
      for (const op of format.whiteout(relOf(parentOf(path)), path.slice(path.lastIndexOf('/') + 1))) top.apply(op);
    } else if (r.node.entry.kind === 'dir') {
      if (pin.keep === 'attrs') copyUp(r.node);
      else if (!(isUpper(r.node) && stack.isOpaque(0, relOf(path)))) {
        fill(r.node);
        for (const op of format.makeOpaque(relOf(path))) top.apply(op);
      }
    } else if (!isUpper(r.node)) {
      copy(r.node);
    }
  }
}

function resolveDir(stack: MemoryLayers, path: ViewPath): ViewNode {
  const r = resolve(path, stack, stack.format);
  if (r.kind !== 'found' || r.node.entry.kind !== 'dir') throw new Error(`bug: no directory at ${path}`);
  return r.node;
}

/** The in-memory twin of src/host/apply-merge.ts runSteps. */
export function runStepsInMemory(source: MemoryLayer, target: MemoryLayer, steps: readonly MergeStep[]): void {
  for (const step of steps) {
    switch (step.op) {
      case 'trash': target.take(step.rel); break;
      case 'move': {
        const n: MemNode | undefined = (step.side === 'source' ? source : target).take(step.src);
        if (!n) break;
        target.take(step.dst);
        target.put(step.dst, n);
        break;
      }
      case 'layer': for (const op of step.ops) (step.side === 'source' ? source : target).apply(op); break;
      case 'attrs': {
        const s = source.node(step.rel);
        const t = target.node(step.rel);
        if (s && t) { const v = s.xattrs.get(ID); if (v === undefined) t.xattrs.delete(ID); else t.xattrs.set(ID, v); }
        break;
      }
      default: throw new Error(`unexpected step ${step.op} (no metacopy here)`);
    }
  }
}
