// Bystanders of a merge: the worlds that are not merged but stack a merged world's layer (its other
// descendants). Their layer order changes — the merged layers fold into the ancestor's, lower down —
// so, for none of their files to change, each first gets its own copy of what it saw wherever its
// view would change. This plans those copies as data (docs/merge.md, "Bystanders"); the executor is
// src/worlds/protect.ts. Pure: views are compared through the resolver over a pool of layers.
import type { ViewPath } from '../paths.js';
import { lookupChild, resolve, rootNode, type Branch, type ChildLookup, type ViewNode } from '../resolve.js';
import type { WhiteoutFormat } from '../whiteout/format.js';
import { hiddenByHashed } from '../whiteout/hashed-marker.js';
import { StackView, type LayerPool, type StackLayer } from './stack-view.js';

/**
 * What a bystander keeps at one path. 'entry': the object as it saw it, whole (a file, a whiteout
 * where it saw nothing, an opaque copy of a directory); 'attrs': a directory's own attributes only
 * (a copy-up: its contents keep merging), or the object whole where it saw no directory.
 */
export interface BystanderPin {
  readonly path: string;
  readonly keep: 'entry' | 'attrs';
  /**
   * The non-directory the world sees there lives in a merged layer and does not survive the merge
   * (no view shows it afterwards): a hard link may keep it instead of a copy, if it is the only one.
   */
  readonly link?: boolean;
}

export interface BystanderPins {
  readonly world: string;
  /** Parents before children. */
  readonly pins: readonly BystanderPin[];
}

export interface BystanderInput {
  readonly pool: LayerPool;
  /** The pool index of a world's own layer. */
  readonly layerOf: (world: string) => number;
  readonly format: WhiteoutFormat;
  /** A world's layer order before the merge ([world, ...ancestors], ids). */
  readonly before: (world: string) => readonly string[];
  /** Its order after the merge, in the registry the merge leaves (merged worlds gone, parents replaced). */
  readonly after: (world: string) => readonly string[];
  /** Merged worlds, lowest priority first (the child last). */
  readonly fold: readonly string[];
  readonly into: string;
  /** The worlds to protect: not merged, not the ancestor, stacking a merged world. */
  readonly bystanders: readonly string[];
  /**
   * Paths (view paths) whose merged changes are not applied (conflicts kept by the ancestor). The
   * merge still moves one inside a directory it moves whole, so bystanders keep them whatever.
   */
  readonly skip?: readonly string[];
}

/**
 * For each bystander, the paths it must keep so that, once the merge is done and the other
 * bystanders kept theirs, its view is what it was. Worlds are listed descendants first: the order
 * the copies must be made in (a copy in a world changes the views of its descendants, so theirs
 * are read first). Worlds with nothing to keep are left out.
 *
 * The view after the merge is the bystander's new layer order with the ancestor's layer standing
 * for the merged layers stacked on it, the child's order (what the merge makes of them).
 */
export function planBystanders(input: BystanderInput): BystanderPins[] {
  const skip = input.skip ?? [];
  const skipFn = (p: string) => skip.some((s) => p === s.slice(1) || p.startsWith(s.slice(1) + '/'));
  const block: StackLayer[] = [...input.fold].reverse()
    .map((w) => ({ world: w, index: input.layerOf(w), ...(skip.length > 0 ? { skip: skipFn } : {}) }));
  block.push({ world: input.into, index: input.layerOf(input.into) });
  const stack = (ids: readonly string[], expand: boolean) => new StackView(input.pool,
    ids.flatMap((w) => (expand && w === input.into ? block : [{ world: w, index: input.layerOf(w) }])), input.format);

  // Renamed directories of every world but the base (whose layer is no world's: a host directory).
  const renamed = new Map<string, string[]>();
  const redirects = (w: string) => {
    let r = renamed.get(w);
    if (r === undefined) renamed.set(w, (r = renamedDirs(input.pool, input.layerOf(w), input.format)));
    return r;
  };
  // The merged layers alone, as the ancestor's layer will hold them: what an object must top there to survive.
  const folded = new StackView(input.pool, block, input.format);
  const mergedWorlds = new Set(input.fold);
  const linkable = new Map<string, Set<string>>();
  const byDepth = [...input.bystanders].sort((a, b) => input.before(a).length - input.before(b).length);
  const kept = new Map<string, Map<string, BystanderPin['keep']>>();
  for (const w of byDepth) {
    const worlds = new Set([...input.before(w).slice(0, -1), ...input.after(w).slice(0, -1), ...input.fold]);
    const redirected = [...worlds].flatMap((x) => redirects(x));
    const dies = new Set<string>();
    const pins = changedPaths(stack(input.before(w), false), stack(input.after(w), true), input.format, redirected, (path, id) => {
      if (!mergedWorlds.has(id.slice(0, id.indexOf('\0')))) return;
      let r: ChildLookup | undefined;
      try { r = resolve(path as ViewPath, folded, input.format); } catch { r = undefined; }
      const top = r?.kind === 'found' ? r.node.branches[0]! : undefined;
      if (top === undefined || folded.identity(top.layer, top.rel) !== id) dies.add(path);
    });
    linkable.set(w, dies);
    for (const path of markerPaths(input, block, foreignBelow(input, w))) add(pins, path, 'entry');
    for (const path of skip) add(pins, path, 'entry');
    // A copy made in a bystander this one stacks changes what shows through it: keep those paths too.
    const lineage = new Set(input.before(w));
    for (const [u, theirs] of kept) {
      if (u === w || !lineage.has(u)) continue;
      for (const [path, keep] of theirs) {
        add(pins, path, keep);
        for (let p = parentPath(path); p !== '/'; p = parentPath(p)) add(pins, p, 'attrs');
      }
    }
    kept.set(w, pins);
  }
  return byDepth.reverse()
    .filter((w) => kept.get(w)!.size > 0)
    .map((w) => ({ world: w, pins: [...kept.get(w)!].map(([path, keep]) => ({ path, keep, ...(linkable.get(w)!.has(path) ? { link: true } : {}) })).sort((a, b) => depth(a.path) - depth(b.path) || (a.path < b.path ? -1 : 1)) }));
}

/**
 * Layers the bystander stacks below the ancestor that the ancestor's own order lacks. The merge
 * writes a whiteout, or makes a directory opaque over what it replaces, only where the ancestor's
 * lower layers show something (plan.ts, lowerShows): these layers may show it there all the same.
 */
function foreignBelow(input: BystanderInput, w: string): number[] {
  const mine = new Set(input.before(input.into));
  const order = input.after(w);
  return order.slice(order.indexOf(input.into) + 1).filter((x) => !mine.has(x)).map((x) => input.layerOf(x));
}

/**
 * Paths where the merged layers hide what lies below them (a whiteout, or a directory over a
 * non-directory of a lower merged layer or the ancestor's) and one of `foreign` has an entry: the
 * merge may drop that marker, so the bystander keeps its view there whole.
 */
function markerPaths(input: BystanderInput, block: readonly StackLayer[], foreign: readonly number[]): string[] {
  if (foreign.length === 0) return [];
  const view = new StackView(input.pool, block, input.format);
  const { format } = input;
  const out: string[] = [];
  const shown = (rel: string) => foreign.some((i) => input.pool.entry(i, rel) !== undefined);
  const hiddenBelow = (from: number, rel: string) => {
    for (let l = from + 1; l < block.length; l++) {
      const e = view.entry(l, rel);
      if (e !== undefined) return e.kind !== 'dir' || format.isWhiteout(e);
    }
    return false;
  };
  const walk = (layer: number, rel: string) => {
    const listed = view.list(layer, rel);
    // A hashed marker hides a name too long for a marker of its own: the layers below tell which.
    const markers = new Set(listed.filter((e) => format.isHashedMarker(e.name)).map((e) => e.name));
    if (markers.size > 0) {
      const below = new Set<string>();
      for (let l = layer + 1; l < block.length; l++) for (const e of view.list(l, rel)) below.add(e.name);
      for (const hidden of hiddenByHashed(markers, below, (n) => format.markerFor(n))) {
        const p = rel === '' ? hidden : `${rel}/${hidden}`;
        if (shown(p)) out.push('/' + p);
      }
    }
    for (const e of listed) {
      if (format.isInternal(e.name)) continue;
      const hidden = format.hiddenByMarker(e.name) ?? (format.isWhiteout(e) ? e.name : undefined);
      const p = hidden !== undefined ? (rel === '' ? hidden : `${rel}/${hidden}`) : (rel === '' ? e.name : `${rel}/${e.name}`);
      if (hidden !== undefined) {
        if (shown(p)) out.push('/' + p);
        continue;
      }
      if (e.kind !== 'dir') continue;
      if (hiddenBelow(layer, p) && shown(p)) out.push('/' + p);
      walk(layer, p);
    }
  };
  for (let l = 0; l < block.length - 1; l++) walk(l, '');
  return out;
}

function add(pins: Map<string, BystanderPin['keep']>, path: string, keep: BystanderPin['keep']): void {
  if (pins.get(path) !== 'entry') pins.set(path, keep);
}

const parentPath = (p: string) => (p.lastIndexOf('/') <= 0 ? '/' : p.slice(0, p.lastIndexOf('/')));
const depth = (p: string) => p.split('/').length;

/** Paths of a layer's directories that carry a redirect (a renamed directory's lower contents live elsewhere). */
function renamedDirs(pool: LayerPool, layer: number, format: WhiteoutFormat): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of pool.list(layer, rel)) {
      if (e.kind !== 'dir' || format.isInternal(e.name)) continue;
      const p = rel === '' ? e.name : `${rel}/${e.name}`;
      if (pool.redirectOf(layer, p) !== undefined) out.push('/' + p);
      walk(p);
    }
  };
  walk('');
  return out;
}

/**
 * Paths where the two stacks' views differ, with what must be kept there. A directory's children
 * resolve from its branches alone — except a renamed directory's lower contents, which are looked
 * up at its redirect in the whole stack below it: `redirected` (paths of every renamed directory of
 * the layers involved) are always looked at.
 */
function changedPaths(before: StackView, after: StackView, format: WhiteoutFormat, redirected: readonly string[],
  kept: (path: string, identity: string) => void): Map<string, BystanderPin['keep']> {
  const out = new Map<string, BystanderPin['keep']>();
  const keys = (v: StackView, bs: readonly Branch[]) => bs.map((b) => v.branchKey(b.layer, b.rel));

  const compareDir = (b: ViewNode, a: ViewNode): void => {
    const bTop = b.branches[0]!;
    const aTop = a.branches[0]!;
    if (before.identity(bTop.layer, bTop.rel) !== after.identity(aTop.layer, aTop.rel) && b.path !== '/') out.set(b.path, 'attrs');
    const bIds = keys(before, b.branches);
    const aIds = keys(after, a.branches);
    let same = 0;
    while (same < bIds.length && same < aIds.length && bIds[bIds.length - 1 - same] === aIds[aIds.length - 1 - same]) same++;
    const names = new Set<string>();
    const prefix = b.path === '/' ? '/' : b.path + '/';
    for (const r of redirected) if (r.startsWith(prefix)) names.add(r.slice(prefix.length).split('/')[0]!);
    if (same === bIds.length && same === aIds.length && names.size === 0) return;
    // A name only the common lower part has resolves there alike: look at the others' names. But
    // a hashed marker (a whiteout of a name too long for a marker of its own) says not which name it
    // hides: with one among them, the common part's names are compared too.
    let hashed = false;
    const collect = (v: StackView, bs: readonly Branch[]) => {
      for (const br of bs) {
        for (const e of v.list(br.layer, br.rel)) {
          if (format.isHashedMarker(e.name)) hashed = true;
          if (format.isInternal(e.name)) continue;
          names.add(format.hiddenByMarker(e.name) ?? e.name);
        }
      }
    };
    collect(before, b.branches.slice(0, b.branches.length - same));
    collect(after, a.branches.slice(0, a.branches.length - same));
    if (hashed) {
      collect(before, b.branches.slice(b.branches.length - same));
      collect(after, a.branches.slice(a.branches.length - same));
    }
    for (const name of [...names].sort()) {
      compareNode(lookupChild(b, name, before, format), lookupChild(a, name, after, format), b.path === '/' ? `/${name}` : `${b.path}/${name}`);
    }
  };

  const compareNode = (b: ChildLookup, a: ChildLookup, path: string): void => {
    if (b.kind === 'absent' && a.kind === 'absent') return;
    if (b.kind === 'absent' || a.kind === 'absent') {
      out.set(path, 'entry');
      if (b.kind === 'found' && b.node.entry.kind !== 'dir') kept(path, before.identity(b.node.branches[0]!.layer, b.node.branches[0]!.rel));
      return;
    }
    const bDir = b.node.entry.kind === 'dir';
    const aDir = a.node.entry.kind === 'dir';
    if (bDir && aDir) return compareDir(b.node, a.node);
    const bTop = b.node.branches[0]!;
    const aTop = a.node.branches[0]!;
    if (bDir || aDir || before.identity(bTop.layer, bTop.rel) !== after.identity(aTop.layer, aTop.rel)) {
      out.set(path, 'entry');
      if (!bDir) kept(path, before.identity(bTop.layer, bTop.rel));
    }
  };

  compareDir(rootNode(before), rootNode(after));
  return out;
}
