// Before a merge, protect the merged worlds' other children: each is re-parented onto the ancestor,
// so wherever the merge would change what it sees (a change by a merged world outside its own
// lineage), it first gets its own copy of what it saw: a hard link (no data copied) or a whiteout.
import { linkSync, lstatSync, readdirSync } from 'node:fs';
import { childOf, parentOf, toViewPath, type ViewPath } from '../core/paths.js';
import { isUpper, type ViewNode } from '../core/resolve.js';
import { host, hostCode } from '../host/errors.js';
import type { HostLayers } from '../host/layer-probe.js';
import { LayerWriter } from '../host/layer-writer.js';
import { Union } from '../host/union.js';

/** Give the world whose stack is `layers` its own copy of what it sees at each of `paths`. */
export function pinPaths(layers: HostLayers, work: string, paths: Iterable<string>): void {
  const union = new Union(layers, new LayerWriter(layers.roots[0]!, work), { fsync: false, canChown: process.getuid?.() === 0 });
  for (const raw of paths) {
    const path = toViewPath(raw);
    let r;
    try {
      r = union.resolve(path);
    } catch {
      continue; // a parent is missing or not a directory in this world's view: nothing to keep
    }
    if (r.kind === 'found' && isUpper(r.node)) continue; // its own layer decides already
    if (r.kind === 'absent') {
      if (!parentVisible(union, path)) continue;
      const parent = union.parentDir(path);
      union.copyUp(parent);
      union.writer.apply(union.format.whiteout(parent.path === '/' ? '' : parent.path.slice(1), path.slice(path.lastIndexOf('/') + 1)));
      continue;
    }
    pinNode(union, r.node);
  }
}

function parentVisible(union: Union, path: ViewPath): boolean {
  try {
    return union.resolve(parentOf(path)).kind === 'found';
  } catch {
    return false;
  }
}

/** Keep `node` as this world sees it: link files, rebuild directories as opaque copies. */
function pinNode(union: Union, node: ViewNode): void {
  union.copyUp(union.parentDir(node.path));
  const upper = union.upperPath(node.path);
  const b = node.branches[0]!;
  if (node.entry.kind === 'file' && union.layers.isMetacopy(b.layer, b.rel)) {
    union.copyUp(node); // its data is found by path below: after the merge that path shows other data
    return;
  }
  if (node.entry.kind !== 'dir') {
    try {
      host(() => linkSync(union.hostPath(node), upper));
      return;
    } catch (e) {
      if (hostCode(e) !== 'EXDEV' && hostCode(e) !== 'EPERM' && hostCode(e) !== 'EMLINK') throw e;
    }
    union.copyUp(node); // another filesystem (the base): a real copy
    return;
  }
  union.copyUp(node);
  union.applyAt(upper, union.format.makeOpaque(''));
  const names = new Set<string>(readdirSync(upper));
  for (const b of node.branches) {
    if (b.layer === 0) continue;
    for (const e of union.layers.list(b.layer, b.rel)) names.add(e.name);
  }
  for (const name of names) {
    if (union.format.isInternal(name) || union.format.hiddenByMarker(name) !== undefined) continue;
    const child = union.lookupIn(node, name);
    if (child.kind !== 'found' || isUpper(child.node)) continue;
    if (lstatSync(union.upperPath(childOf(node.path, name)), { throwIfNoEntry: false })) continue;
    pinNode(union, child.node);
  }
}
