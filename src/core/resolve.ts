// Name resolution across a layer stack: a name resolves to the highest layer that has it unless a
// whiteout above hides it; directories merge downwards until an opaque one; a redirected directory
// (renamed while it had lower contents) continues in the lower layers at its recorded path.
// Pure: all reads go through a LayerProbe. Follows overlayfs's ovl_lookup (fs/overlayfs/namei.c).
import { fsError, isFsError } from './errors.js';
import { ROOT, childOf, relJoin, splitView, type Name, type ViewPath } from './paths.js';
import type { RawEntry, WhiteoutFormat } from './whiteout/format.js';
import type { ResolveMemo } from './lower-cache.js';

/** One layer's contribution to a view object: the layer's index (0 = top) and the path inside it. */
export interface Branch {
  readonly layer: number;
  readonly rel: string;
}

/** A resolved object of the view. */
export interface ViewNode {
  readonly path: ViewPath;
  /** The entry in the highest layer that has the object. */
  readonly entry: RawEntry;
  /** branches[0] is the top (highest) one; directories list every layer they merge, top first. */
  readonly branches: readonly Branch[];
}

/** Reads a layer stack. Implemented over real directories in src/host/layer-probe.ts. */
export interface LayerProbe {
  readonly layerCount: number;
  /** lstat: the entry at `rel` in `layer`, or undefined when absent. Never follows symlinks. */
  entry(layer: number, rel: string): RawEntry | undefined;
  /** Whether directory `rel` in `layer` is opaque. */
  isOpaque(layer: number, rel: string): boolean;
  /** The redirect recorded on directory `rel` in `layer`, if any. */
  redirectOf(layer: number, rel: string): string | undefined;
  /**
   * Resolutions within the lower layers that may be reused (src/core/lower-cache.ts). Absent or
   * undefined: none, and every lookup scans the layers.
   */
  memo?(): ResolveMemo | undefined;
  /**
   * Directories of the view resolved before and remembered with the top layer (the daemon's top
   * memo, src/core/top-memo.ts), used together with `memo`. Absent or undefined: none, and every
   * path is resolved from the root.
   */
  dirNodes?(): DirNodes | undefined;
}

/**
 * The view's directories remembered between requests, by path components. Default contract: a
 * node is given only while nothing was written in the top layer at or above its path since it
 * was remembered; the resolver itself checks that its lower part is still the lower memo's.
 */
export interface DirNodes {
  /** The deepest remembered directory among names[0..i), i <= upTo: its node and i (0: the root). */
  deepest(names: readonly string[], upTo: number): { node: ViewNode; depth: number } | undefined;
  /** Remember `node`, the directory at names[0..depth). */
  remember(names: readonly string[], depth: number, node: ViewNode): void;
}

/** The result of looking one name up in a directory. */
export type ChildLookup =
  | { readonly kind: 'found'; readonly node: ViewNode }
  /** whiteoutAt: the layer whose whiteout stopped the search, if one did. */
  | { readonly kind: 'absent'; readonly parent: ViewNode; readonly whiteoutAt?: number };

const ROOT_ENTRY: RawEntry = { kind: 'dir', rdev: 0 };

/** The root of the stack made of layers fromLayer..end, merged down to the first opaque root. */
export function rootNode(probe: LayerProbe, fromLayer = 0): ViewNode {
  const memo = probe.memo?.();
  if (memo === undefined) return scanRoot(probe, fromLayer);
  if (fromLayer > 0) {
    let r = memo.root(fromLayer);
    if (r === undefined) memo.setRoot(fromLayer, (r = scanRoot(probe, fromLayer)));
    return r;
  }
  // The top layer's root is read afresh; below it, the remembered root of layers 1..n.
  const top: Branch = { layer: 0, rel: '' };
  const lower = probe.layerCount > 1 && !probe.isOpaque(0, '') ? rootNode(probe, 1) : null;
  const node: ViewNode = { path: ROOT, entry: ROOT_ENTRY, branches: lower ? [top, ...lower.branches] : [top] };
  memo.setLowerOf(node, lower);
  return node;
}

function scanRoot(probe: LayerProbe, fromLayer: number): ViewNode {
  const branches: Branch[] = [];
  for (let layer = fromLayer; layer < probe.layerCount; layer++) {
    branches.push({ layer, rel: '' });
    if (layer < probe.layerCount - 1 && probe.isOpaque(layer, '')) break;
  }
  return { path: ROOT, entry: ROOT_ENTRY, branches };
}

/** Look `name` up in directory `dir`. Reserved and internal names are always absent. */
export function lookupChild(dir: ViewNode, name: Name | string, probe: LayerProbe, format: WhiteoutFormat): ChildLookup {
  if (format.isInternal(name) || format.isReservedName(name)) return { kind: 'absent', parent: dir };
  const memo = probe.memo?.();
  const lower = memo?.lowerOf(dir);
  // A node the memo does not know (made by a caller, or in an ended generation): scan the layers.
  if (memo === undefined || lower === undefined) return scanChild(dir, name, probe, format);
  if (dir.branches[0]!.layer > 0) {
    return lower === null ? scanChild(dir, name, probe, format) : within(dir, name, memoChild(lower, name, probe, format, memo), memo);
  }
  return topThenLower(dir, lower, name, probe, format, memo);
}

/**
 * lookupChild for a directory whose top branch is in the top layer: the top layer is read now,
 * the rest comes from the remembered lookup in `lower` (the directory's part below the top).
 * Gives what scanChild gives: below a top directory only lower directories merge, and a lookup
 * that stops in the lower layers (whiteout, non-directory) adds nothing to it.
 */
function topThenLower(dir: ViewNode, lower: ViewNode | null, name: string, probe: LayerProbe, format: WhiteoutFormat, memo: ResolveMemo): ChildLookup {
  const b = dir.branches[0]!;
  const rel = relJoin(b.rel, name);
  const e = probe.entry(0, rel);
  const marker = format.markerFor(name);
  if (e === undefined) {
    if (marker !== undefined && probe.entry(0, relJoin(b.rel, marker)) !== undefined) return { kind: 'absent', parent: dir, whiteoutAt: 0 };
    return lower === null ? { kind: 'absent', parent: dir } : within(dir, name, memoChild(lower, name, probe, format, memo), memo);
  }
  if (format.isWhiteout(e)) return { kind: 'absent', parent: dir, whiteoutAt: 0 };
  const top: Branch = { layer: 0, rel };
  const path = childOf(dir.path, name);
  if (e.kind !== 'dir') return found(path, e, [top]);
  let below: ViewNode | null = null;
  if (probe.layerCount > 1) {
    const redirect = probe.redirectOf(0, rel);
    const absolute = redirect !== undefined && redirect.startsWith('/');
    const stop = (lower === null && !absolute)
      || (marker !== undefined && probe.entry(0, relJoin(b.rel, marker)) !== undefined)
      || probe.isOpaque(0, rel);
    if (!stop && absolute) {
      below = resolveRedirect(redirect as ViewPath, probe, format, 1) ?? null;
    } else if (!stop) {
      const r = memoChild(lower!, redirect ?? name, probe, format, memo);
      if (r.kind === 'found' && r.node.entry.kind === 'dir') below = r.node;
    }
  }
  const node: ViewNode = { path, entry: e, branches: below ? [top, ...below.branches] : [top] };
  memo.setLowerOf(node, below);
  return { kind: 'found', node };
}

/** The lookup of `name` in the lower node `dir`, remembered for the generation. */
function memoChild(dir: ViewNode, name: string, probe: LayerProbe, format: WhiteoutFormat, memo: ResolveMemo): ChildLookup {
  let r = memo.child(dir, name);
  if (r === undefined) memo.setChild(dir, name, (r = scanChild(dir, name, probe, format)));
  return r;
}

/** A lookup made in `dir`'s lower node, as a lookup in `dir` (whose path may differ: redirects). */
function within(dir: ViewNode, name: string, r: ChildLookup, memo: ResolveMemo): ChildLookup {
  if (r.kind === 'absent') {
    if (r.parent === dir) return r;
    return r.whiteoutAt === undefined ? { kind: 'absent', parent: dir } : { kind: 'absent', parent: dir, whiteoutAt: r.whiteoutAt };
  }
  const path = childOf(dir.path, name);
  if (r.node.path === path) return r;
  const node: ViewNode = { path, entry: r.node.entry, branches: r.node.branches };
  if (node.entry.kind === 'dir') memo.setLowerOf(node, r.node);
  return { kind: 'found', node };
}

/** lookupChild by reading every layer `dir` draws on, top first: the reference semantics. */
function scanChild(dir: ViewNode, name: string, probe: LayerProbe, format: WhiteoutFormat): ChildLookup {
  const path = childOf(dir.path, name);
  const branches: Branch[] = [];
  let top: RawEntry | undefined;
  let lookupName: string = name;
  const last = dir.branches.length - 1;
  for (let i = 0; i <= last; i++) {
    const b = dir.branches[i]!;
    const rel = relJoin(b.rel, lookupName);
    const e = probe.entry(b.layer, rel);
    if (e === undefined) {
      // A whiteout in the stack's bottom layer hides nothing, there being nothing below it: its
      // marker is not read (one system call less for every name a world's base lacks). Only the
      // top layer's whiteouts are acted on (a create removes one), so where the bottom is the top
      // (a one-layer stack) it is read.
      if (b.layer > 0 && b.layer === probe.layerCount - 1) continue;
      const marker = format.markerFor(lookupName);
      if (marker !== undefined && probe.entry(b.layer, relJoin(b.rel, marker)) !== undefined) {
        return top ? found(path, top, branches) : { kind: 'absent', parent: dir, whiteoutAt: b.layer };
      }
      continue;
    }
    if (format.isWhiteout(e)) {
      return top ? found(path, top, branches) : { kind: 'absent', parent: dir, whiteoutAt: b.layer };
    }
    if (e.kind !== 'dir') {
      // A non-directory is seen only when nothing above it is; below a directory it is hidden.
      return top ? found(path, top, branches) : found(path, e, [{ layer: b.layer, rel }]);
    }
    if (!top) top = e;
    branches.push({ layer: b.layer, rel });
    if (b.layer === probe.layerCount - 1) break;
    const redirect = probe.redirectOf(b.layer, rel);
    const absolute = redirect !== undefined && redirect.startsWith('/');
    // Nothing left to merge (the parent's last branch, no absolute redirect): the markers that
    // would stop the merge cannot change the answer, so they are not read.
    if (i === last && !absolute) break;
    // A whiteout beside a directory in the same layer: the directory shows, the lower ones do not.
    const marker = format.markerFor(lookupName);
    if (marker !== undefined && probe.entry(b.layer, relJoin(b.rel, marker)) !== undefined) break;
    if (probe.isOpaque(b.layer, rel)) break;
    if (absolute) {
      // Absolute redirect: the lower contents are found by resolving that path in the lower stack,
      // whatever the parent's own branches are. A target that is gone leaves the top part only.
      const lower = resolveRedirect(redirect as ViewPath, probe, format, b.layer + 1);
      if (lower !== undefined) branches.push(...lower.branches);
      break;
    }
    if (i === last) break;
    // Relative redirect (written by kernel overlayfs for renames within one directory).
    if (redirect !== undefined) lookupName = redirect;
  }
  return top ? found(path, top, branches) : { kind: 'absent', parent: dir };
}

function resolveRedirect(target: ViewPath, probe: LayerProbe, format: WhiteoutFormat, fromLayer: number): ViewNode | undefined {
  try {
    const r = resolveFrom(target, probe, format, fromLayer);
    return r.kind === 'found' && r.node.entry.kind === 'dir' ? r.node : undefined;
  } catch (e) {
    if (isFsError(e, 'ENOENT', 'ENOTDIR')) return undefined;
    throw e;
  }
}

/** Resolve `path` in the stack made of layers fromLayer..end; undefined when an intermediate is missing. */
export function resolveBelow(path: ViewPath, probe: LayerProbe, format: WhiteoutFormat, fromLayer: number): ChildLookup | undefined {
  try {
    return resolveFrom(path, probe, format, fromLayer);
  } catch (e) {
    if (isFsError(e, 'ENOENT', 'ENOTDIR')) return undefined;
    throw e;
  }
}

/**
 * Resolve a whole path. The final component may be absent; an absent or non-directory
 * intermediate component is an error (ENOENT / ENOTDIR), as in path_lookup.
 */
export function resolve(path: ViewPath, probe: LayerProbe, format: WhiteoutFormat): ChildLookup {
  return resolveFrom(path, probe, format, 0);
}

function resolveFrom(path: ViewPath, probe: LayerProbe, format: WhiteoutFormat, fromLayer: number): ChildLookup {
  const names = splitView(path);
  const memo = probe.memo?.();
  const dirs = fromLayer === 0 && memo !== undefined ? probe.dirNodes?.() : undefined;
  if (dirs === undefined) return walk(rootNode(probe, fromLayer), 0, names, probe, format, undefined);
  // Start at the deepest directory remembered on the way whose lower part the lower memo still
  // holds (a lower change drops that, and with it every node built on it); else at the root.
  const known = dirs.deepest(names, names.length);
  if (known !== undefined && memo!.lowerOf(known.node) !== undefined) {
    return known.depth === names.length ? { kind: 'found', node: known.node } : walk(known.node, known.depth, names, probe, format, dirs);
  }
  const root = rootNode(probe, 0);
  dirs.remember(names, 0, root);
  return walk(root, 0, names, probe, format, dirs);
}

/** Resolve names[from..] below `node` (the directory at names[0..from)), remembering directories in `dirs`. */
function walk(node: ViewNode, from: number, names: readonly Name[], probe: LayerProbe, format: WhiteoutFormat, dirs: DirNodes | undefined): ChildLookup {
  if (from === names.length) return { kind: 'found', node };
  for (let i = from; i < names.length - 1; i++) {
    const r = lookupChild(node, names[i]!, probe, format);
    if (r.kind === 'absent') throw fsError('ENOENT', r.parent.path + '/' + names[i]);
    if (r.node.entry.kind !== 'dir') throw fsError('ENOTDIR', r.node.path);
    node = r.node;
    dirs?.remember(names, i + 1, node);
  }
  const r = lookupChild(node, names[names.length - 1]!, probe, format);
  if (dirs !== undefined && r.kind === 'found' && r.node.entry.kind === 'dir') dirs.remember(names, names.length, r.node);
  return r;
}

/** Resolve and require the object to exist (ENOENT otherwise). */
export function resolveExisting(path: ViewPath, probe: LayerProbe, format: WhiteoutFormat): ViewNode {
  const r = resolve(path, probe, format);
  if (r.kind === 'absent') throw fsError('ENOENT', path);
  return r.node;
}

/** The same directory seen without the top layer: what would show if the top layer had nothing. */
export function lowerPart(dir: ViewNode): ViewNode {
  return { ...dir, branches: dir.branches.filter((b) => b.layer > 0) };
}

/** True when some layer below the top would show `name` in `dir` (so deleting it needs a whiteout). */
export function lowerHas(dir: ViewNode, name: string, probe: LayerProbe, format: WhiteoutFormat): boolean {
  const lower = lowerPart(dir);
  return lower.branches.length > 0 && lookupChild(lower, name, probe, format).kind === 'found';
}

/** True when the object lives (at least partly) in the top layer. */
export function isUpper(node: ViewNode): boolean {
  return node.branches[0]!.layer === 0;
}

/** True when a directory draws on more than one layer (overlayfs: a "merge" directory). */
export function isMerged(node: ViewNode): boolean {
  return node.branches.length > 1;
}

function found(path: ViewPath, entry: RawEntry, branches: Branch[]): ChildLookup {
  return { kind: 'found', node: { path, entry, branches } };
}
