// Merge planning: the steps that fold one world's layer (the source) into an ancestor's layer (the
// target) so that the target's view shows what the source's view showed at every path the source
// changed. Files and whole new directories are moved with rename(2) — cost grows with the number of
// changed entries, not their size. Two passes (docs/merge.md):
//   1. renamed directories whose contents the target holds: move them inside the target first;
//   2. everything else, top-down: whiteouts erase, entries move or merge, markers follow.
// Pure over two LayerReaders; every step is idempotent so a journaled plan can be resumed.
import { parentOf, relJoin, type ViewPath } from '../paths.js';
import { dataBranch, type MetacopyProbe } from '../metacopy.js';
import type { ListedEntry } from '../listing.js';
import { originOf } from '../origin.js';
import { lookupChild, lowerHas, resolve, type ViewNode } from '../resolve.js';
import type { LayerOp, WhiteoutFormat } from '../whiteout/format.js';
import { hiddenByHashed } from '../whiteout/hashed-marker.js';

/** A LayerProbe that can also list a directory's raw entries and tell metacopy files. */
export interface LayerReader extends MetacopyProbe {
  list(layer: number, rel: string): ListedEntry[];
  hostPath(layer: number, rel: string): string;
}

export type MergeStep =
  /** Move target:rel to the trash (nothing if absent). */
  | { readonly op: 'trash'; readonly rel: string }
  /** rename(2) side:src to target:dst if side:src still exists (else it was done before a crash). */
  | { readonly op: 'move'; readonly side: 'source' | 'target'; readonly src: string; readonly dst: string }
  /** Whiteout-format ops on one side. */
  | { readonly op: 'layer'; readonly side: 'source' | 'target'; readonly ops: readonly LayerOp[] }
  /** Copy mode, owner and times of directory source:rel onto target:rel. */
  | { readonly op: 'attrs'; readonly rel: string }
  /** Copy the metadata (mode, owner, times, xattrs) of metacopy file source:rel onto target:rel, its data. */
  | { readonly op: 'meta'; readonly rel: string }
  /** Give metacopy file source:rel its data from host path `from` (before it moves). */
  | { readonly op: 'materialize'; readonly rel: string; readonly from: string };

export interface PlanInput {
  /** The source world's stack: layer 0 is its own layer (the rest is read for metacopy data). */
  readonly source: LayerReader;
  /** The target world's stack: layer 0 is the target's own layer, then what lies below it. */
  readonly target: LayerReader;
  readonly format: WhiteoutFormat;
  /** Paths whose source changes are not applied (conflicts the policy resolved for the parent). */
  readonly skip?: (path: string) => boolean;
}

const view = (rel: string) => ('/' + rel) as ViewPath;

/** Every directory of the source layer that carries a redirect, with its absolute target. */
export function sourceRedirects(input: PlanInput): { rel: string; target: string }[] {
  const out: { rel: string; target: string }[] = [];
  const walk = (rel: string) => {
    for (const e of input.source.list(0, rel)) {
      if (e.kind !== 'dir' || input.format.isInternal(e.name)) continue;
      const child = relJoin(rel, e.name);
      if (input.source.redirectOf(0, child) !== undefined) out.push({ rel: child, target: originOf(view(child), input.source) });
      walk(child);
    }
  };
  walk('');
  return out;
}

/**
 * Pass 1. For each renamed directory of the source whose original lives (at least partly) in the
 * target's own layer, move that original to the new name inside the target, keep a redirect for
 * whatever lies below the target, and clear the source's redirect so pass 2 merges into it.
 * Deepest originals move first, so a rename inside a renamed directory finds its original.
 */
export function planRedirectPass(input: PlanInput): MergeStep[] {
  const { target, format } = input;
  const steps: MergeStep[] = [];
  const redirects = sourceRedirects(input)
    .filter((r) => !input.skip?.(r.rel))
    .sort((a, b) => b.target.split('/').length - a.target.split('/').length);
  for (const r of redirects) {
    const originRel = r.target.slice(1);
    const original = target.entry(0, originRel);
    if (original?.kind !== 'dir') continue; // lives below the target only: pass 2 moves it whole
    const resolved = resolve(view(originRel), target, format);
    const below = resolved.kind === 'found' && resolved.node.branches.some((b) => b.layer > 0)
      ? originOf(view(originRel), target) : undefined;
    if (target.entry(0, r.rel) !== undefined) steps.push({ op: 'trash', rel: r.rel });
    steps.push({ op: 'move', side: 'target', src: originRel, dst: r.rel });
    if (below !== undefined) steps.push({ op: 'layer', side: 'target', ops: format.setRedirect(r.rel, below) });
    steps.push({ op: 'layer', side: 'source', ops: format.clearRedirect(r.rel) });
  }
  return steps;
}

/** Pass 2: apply the source layer onto the target layer, top-down. */
export function planApplyPass(input: PlanInput): MergeStep[] {
  const steps: MergeStep[] = [];
  applyDir(input, '', steps);
  return steps;
}

function applyDir(input: PlanInput, rel: string, steps: MergeStep[]): void {
  const { source, target, format } = input;
  const entries = source.list(0, rel);
  const real = new Set(entries.filter((e) => !isMarker(format, e)).map((e) => e.name));
  let dirNode: ViewNode | undefined;
  const lowerShows = (name: string): boolean => {
    dirNode ??= targetDir(input, rel);
    return dirNode !== undefined && lowerHas(dirNode, name, target, format);
  };
  const erase = (hidden: string) => {
    const p = relJoin(rel, hidden);
    if (input.skip?.(p)) return;
    if (target.entry(0, p) !== undefined) steps.push({ op: 'trash', rel: p });
    if (lowerShows(hidden)) steps.push({ op: 'layer', side: 'target', ops: format.whiteout(rel, hidden) });
  };
  for (const hidden of hashedHidden(source, format, rel, entries)) if (!real.has(hidden)) erase(hidden);
  for (const e of entries) {
    if (format.isInternal(e.name)) continue;
    const hidden = format.hiddenByMarker(e.name) ?? (format.isWhiteout(e) ? e.name : undefined);
    if (hidden !== undefined) {
      if (format.hiddenByMarker(e.name) !== undefined && real.has(hidden)) continue; // the entry wins
      erase(hidden);
      continue;
    }
    const p = relJoin(rel, e.name);
    if (input.skip?.(p)) continue;
    const a = target.entry(0, p);
    const marker = format.markerFor(e.name);
    const aMarker = marker !== undefined && target.entry(0, relJoin(rel, marker)) !== undefined;
    const aWhiteout = (a !== undefined && format.isWhiteout(a)) || aMarker;
    const unmark = aMarker ? [{ op: 'layer', side: 'target', ops: format.unwhiteout(rel, e.name) } as const] : [];
    if (e.kind !== 'dir') {
      if (e.kind === 'file' && source.isMetacopy(0, p)) {
        // Metadata only: its data is what the source's lower layers show. If that is the target's
        // own file here, only the metadata moves; otherwise the data is copied in before the move.
        const from = metacopyData(input, p);
        if (a?.kind === 'file' && !aWhiteout && from === target.hostPath(0, p)) {
          steps.push({ op: 'meta', rel: p });
          continue;
        }
        // Moved as it is, it would find its data below the target: fine if that is the same file.
        if (!(a === undefined && !aMarker && targetDataBelow(input, p) === from)) steps.push({ op: 'materialize', rel: p, from });
      }
      if (a?.kind === 'dir') steps.push({ op: 'trash', rel: p });
      steps.push({ op: 'move', side: 'source', src: p, dst: p }, ...unmark);
      continue;
    }
    const opaque = source.isOpaque(0, p);
    const redirected = source.redirectOf(0, p) !== undefined;
    if (a?.kind === 'dir' && !format.isWhiteout(a) && !aMarker && !opaque && !redirected) {
      steps.push({ op: 'attrs', rel: p });
      applyDir(input, p, steps);
      continue;
    }
    if (a !== undefined) steps.push({ op: 'trash', rel: p });
    steps.push({ op: 'move', side: 'source', src: p, dst: p }, ...unmark);
    // The source's directory hid what lay below a whiteout or a file in the target: keep it hidden.
    if (!opaque && !redirected && (aWhiteout || (a !== undefined && a.kind !== 'dir')) && lowerShows(e.name)) {
      steps.push({ op: 'layer', side: 'target', ops: format.makeOpaque(p) });
    }
  }
}

/** Host path of the data of metacopy file `rel` of the source, as the source's view resolves it. */
function metacopyData(input: PlanInput, rel: string): string {
  const { source, format } = input;
  const node = resolve(view(rel), source, format);
  const parent = resolve(parentOf(view(rel)), source, format);
  if (node.kind !== 'found' || parent.kind !== 'found') throw new Error(`bug: ${rel} vanished from the source's view`);
  const b = dataBranch(node.node, parent.node, source, format);
  return source.hostPath(b.layer, b.rel);
}

/** Host path of the data the target's lower layers show at `rel`, if a regular file. */
function targetDataBelow(input: PlanInput, rel: string): string | undefined {
  const { target, format } = input;
  const parent = targetDir(input, parentOf(view(rel)).slice(1));
  if (!parent) return undefined;
  const lower = { ...parent, branches: parent.branches.filter((b) => b.layer > 0) };
  if (lower.branches.length === 0) return undefined;
  const r = lookupChild(lower, rel.slice(rel.lastIndexOf('/') + 1), target, format);
  if (r.kind !== 'found' || r.node.entry.kind !== 'file') return undefined;
  const b = dataBranch(r.node, lower, target, format);
  return target.hostPath(b.layer, b.rel);
}

function isMarker(format: WhiteoutFormat, e: ListedEntry): boolean {
  return format.isInternal(e.name) || format.hiddenByMarker(e.name) !== undefined || format.isWhiteout(e);
}

/**
 * The names that the hashed markers among `entries` (source:rel's listing) white out: names too
 * long for a marker of their own, which only the source's lower layers can show (hashed-marker.ts).
 */
function hashedHidden(source: LayerReader, format: WhiteoutFormat, rel: string, entries: readonly ListedEntry[]): string[] {
  const markers = new Set(entries.filter((e) => format.isHashedMarker(e.name)).map((e) => e.name));
  if (markers.size === 0) return [];
  const r = resolve(view(rel), source, format);
  if (r.kind !== 'found') return [];
  const names = new Set<string>();
  for (const b of r.node.branches) if (b.layer > 0) for (const e of source.list(b.layer, b.rel)) names.add(e.name);
  return hiddenByHashed(markers, names, (n) => format.markerFor(n));
}

/** The target's view node for directory `rel`, if the target's view has a directory there. */
function targetDir(input: PlanInput, rel: string): ViewNode | undefined {
  const r = resolve(view(rel), input.target, input.format);
  return r.kind === 'found' && r.node.entry.kind === 'dir' ? r.node : undefined;
}

/** Paths the source layer changes, as the view sees them: for conflicts and for protecting siblings. */
export interface Touch {
  readonly path: string;
  /** 'entry': a file or a new/replaced directory; 'whiteout': a deletion; 'dir': a merged directory. */
  readonly kind: 'entry' | 'whiteout' | 'dir';
}

/**
 * Every path the source layer (layer 0 of `source`, a world's stack) touches, top-down; merged
 * directories are listed and descended. The layers below tell which names its hashed markers hide.
 */
export function touchedPaths(source: LayerReader, format: WhiteoutFormat): Touch[] {
  const out: Touch[] = [];
  const walk = (rel: string) => {
    const entries = source.list(0, rel);
    const real = new Set(entries.filter((e) => !isMarker(format, e)).map((e) => e.name));
    for (const hidden of hashedHidden(source, format, rel, entries)) {
      if (!real.has(hidden)) out.push({ path: '/' + relJoin(rel, hidden), kind: 'whiteout' });
    }
    for (const e of entries) {
      if (format.isInternal(e.name)) continue;
      const hidden = format.hiddenByMarker(e.name) ?? (format.isWhiteout(e) ? e.name : undefined);
      if (hidden !== undefined) {
        if (!real.has(hidden) || format.isWhiteout(e)) out.push({ path: '/' + relJoin(rel, hidden), kind: 'whiteout' });
        continue;
      }
      const p = relJoin(rel, e.name);
      if (e.kind === 'dir' && !source.isOpaque(0, p) && source.redirectOf(0, p) === undefined) {
        out.push({ path: '/' + p, kind: 'dir' });
        walk(p);
      } else {
        out.push({ path: '/' + p, kind: 'entry' });
      }
    }
  };
  walk('');
  return out;
}

