// What a world's own layer changes relative to the view of its parents: added, modified and
// deleted paths (like `docker diff`). Walks the view where the top layer takes part, using the
// resolver, so renamed (redirected) and opaque directories are judged by what the view shows.
import { mergeListings } from '../core/listing.js';
import { originOf } from '../core/origin.js';
import { childOf, type ViewPath } from '../core/paths.js';
import { lookupChild, lowerPart, rootNode, type ViewNode } from '../core/resolve.js';
import type { EntryKind } from '../core/whiteout/format.js';
import type { HostLayers } from './layer-probe.js';

export type ChangeKind = 'added' | 'modified' | 'deleted';

export interface Change {
  readonly path: ViewPath;
  readonly change: ChangeKind;
  readonly type: EntryKind;
  /** For a renamed directory: the path its lower contents come from. */
  readonly from?: string;
}

/** Every change layer 0 makes to the view of layers 1..n, in path order. */
export function diffTopLayer(layers: HostLayers): Change[] {
  const out: Change[] = [];
  walk(layers, rootNode(layers), out);
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function walk(layers: HostLayers, dir: ViewNode, out: Change[]): void {
  const top = dir.branches[0]!;
  if (top.layer !== 0) return; // the top layer has nothing here
  const lower = lowerPart(dir);
  const lowerNames = lower.branches.length > 0
    ? new Set(mergeListings(lower.branches.map((b) => layers.list(b.layer, b.rel)), layers.format))
    : new Set<string>();
  const visible = new Set(mergeListings(dir.branches.map((b) => layers.list(b.layer, b.rel)), layers.format));
  for (const name of lowerNames) {
    if (visible.has(name)) continue;
    const was = lookupChild(lower, name, layers, layers.format);
    out.push({ path: childOf(dir.path, name), change: 'deleted', type: was.kind === 'found' ? was.node.entry.kind : 'file' });
  }
  for (const name of visible) {
    const r = lookupChild(dir, name, layers, layers.format);
    if (r.kind !== 'found') continue;
    const node = r.node;
    if (node.branches[0]!.layer !== 0) continue; // unchanged: comes from a lower layer
    const before = lowerNames.has(name) ? lookupChild(lower, name, layers, layers.format) : undefined;
    const existed = before?.kind === 'found';
    if (node.entry.kind === 'dir') {
      const redirect = layers.redirectOf(0, node.branches[0]!.rel);
      // A relative redirect (a rename within one directory) names its origin below the parent's.
      const from = redirect === undefined ? undefined : redirect.startsWith('/') ? redirect : originOf(node.path, layers);
      if (!existed) out.push({ path: node.path, change: 'added', type: 'dir', ...(from ? { from } : {}) });
      else if (before.node.entry.kind !== 'dir') out.push({ path: node.path, change: 'modified', type: 'dir' });
      walk(layers, node, out);
    } else {
      out.push({ path: node.path, change: existed ? 'modified' : 'added', type: node.entry.kind });
    }
  }
}

