// Before a merge, keep each bystander's view (src/core/merge/bystanders.ts plans which paths): its
// own layer gets a copy of what it sees at each path — a copy of a file, a whiteout where it sees
// nothing, a copied-up directory, or a directory made opaque over copies of all it shows. Idempotent and crash-safe: every step is atomic, and a directory becomes opaque only once
// everything it shows is in the layer, so a re-run (after a crash) finishes what was begun.
import { linkSync, lstatSync } from 'node:fs';
import { host, hostCode } from '../host/errors.js';
import type { BystanderPin } from '../core/merge/bystanders.js';
import { mergeListings } from '../core/listing.js';
import { childOf, parentOf, relOf, toViewPath, type ViewPath } from '../core/paths.js';
import { isUpper, type ChildLookup, type ViewNode } from '../core/resolve.js';
import type { HostLayers } from '../host/layer-probe.js';
import { LayerWriter } from '../host/layer-writer.js';
import { Union } from '../host/union.js';

/** Give the world whose stack is `layers` (its own layer first) its own copy of what it sees at each pin. */
export function pinPaths(layers: HostLayers, work: string, pins: readonly BystanderPin[]): void {
  const union = new Union(layers, new LayerWriter(layers.roots[0]!, work), { fsync: false, canChown: process.getuid?.() === 0 });
  for (const pin of pins) {
    const path = toViewPath(pin.path);
    let r: ChildLookup;
    try {
      r = union.resolve(path);
    } catch {
      continue; // a parent is missing or not a directory in this world's view: nothing shows there
    }
    if (r.kind === 'absent') {
      keepAbsent(union, path, r);
      continue;
    }
    if (r.node.entry.kind === 'dir') {
      if (pin.keep === 'attrs') union.copyUp(r.node);
      else keepDir(union, r.node);
      continue;
    }
    if (!isUpper(r.node)) keepObject(union, r.node, pin.link === true);
  }
}

/** A whiteout where the world sees nothing, unless its own layer already decides that. */
function keepAbsent(union: Union, path: ViewPath, r: Extract<ChildLookup, { kind: 'absent' }>): void {
  if (r.whiteoutAt === 0) return;
  if (isUpper(r.parent) && union.layers.isOpaque(0, relOf(r.parent.path))) return;
  union.copyUp(r.parent);
  const dir = relOf(parentOf(path));
  union.writer.apply(union.format.whiteout(dir, path.slice(path.lastIndexOf('/') + 1)));
}

/**
 * A non-directory as the world sees it: a copy (copy-up: data, metadata, and its inode number through
 * the origin record). A hard link only where the plan says the object does not survive the merge
 * and no other link to it exists yet: then no other layer shares it once the merge is done (a write
 * through either of two worlds sharing an inode would change both), and processes that have it open
 * keep the same object. A second bystander keeping the same object gets a copy (its link count is 2).
 */
function keepObject(union: Union, node: ViewNode, link = false): void {
  const b = node.branches[0]!;
  if (link && node.entry.kind !== 'dir' && !(node.entry.kind === 'file' && union.layers.isMetacopy(b.layer, b.rel)) && union.stat(node).nlink === 1) {
    union.copyUp(union.parentDir(node.path));
    try {
      host(() => linkSync(union.hostPath(node), union.upperPath(node.path)));
      return;
    } catch (e) {
      if (hostCode(e) === 'EEXIST') return; // linked before a crash
      if (hostCode(e) !== 'EXDEV' && hostCode(e) !== 'EPERM' && hostCode(e) !== 'EMLINK') throw e;
    }
  }
  union.copyUp(node);
}

/**
 * A directory exactly as the world sees it, whatever lies below it afterwards: everything it shows
 * copied into the world's layer, then the directory made opaque (last: a crash before leaves a
 * plain copy-up, which shows the same, and the re-run completes it).
 */
function keepDir(union: Union, node: ViewNode): void {
  if (isUpper(node) && union.layers.isOpaque(0, relOf(node.path))) return;
  fillDir(union, node);
  union.applyAt(union.upperPath(node.path), union.format.makeOpaque(''));
}

/** Copy into the world's layer everything `node` shows that only lower layers hold. */
function fillDir(union: Union, node: ViewNode): void {
  union.copyUp(node);
  if (node.branches.length === 1 && isUpper(node)) return; // the world's layer alone: nothing below
  const names = mergeListings(node.branches.map((b) => union.layers.list(b.layer, b.rel)), union.format);
  for (const name of names) {
    const child = union.lookupIn(node, name);
    if (child.kind !== 'found') continue;
    if (child.node.entry.kind === 'dir') fillDir(union, child.node);
    else if (!isUpper(child.node) && !lstatSync(union.upperPath(childOf(node.path, name)), { throwIfNoEntry: false })) keepObject(union, child.node);
  }
}
