// Conflict detection: pure over what each merged world recorded (its seen log) and a function
// giving the ancestor's current identity at a path.
import type { Conflict } from './policy.js';

export interface MergedLayer {
  readonly world: string;
  /** path → identity of what the world's view showed before its first change there. */
  readonly seen: ReadonlyMap<string, string>;
  /**
   * Paths the world's layer changes now, with how (a record for a path no longer changed is
   * ignored). A directory only merged into ('dir') decides the path without a check: adding to a
   * directory changes its identity, so comparing it would be a false conflict.
   */
  readonly touched: ReadonlyMap<string, 'entry' | 'whiteout' | 'dir'>;
}

/**
 * For every path changed by a merged layer, the lowest such layer (first in `layers`, which is in
 * fold order) is the one whose record counts: later layers derived their version from it.
 */
export function findConflicts(layers: readonly MergedLayer[], currentIdentity: (path: string) => string): Conflict[] {
  const decided = new Set<string>();
  const out: Conflict[] = [];
  /** Paths the layers before this one change, and how. */
  const lower = new Map<string, 'entry' | 'whiteout' | 'dir'>();
  for (const layer of layers) {
    for (const [path, kind] of layer.touched) {
      if (decided.has(path)) continue;
      decided.add(path);
      if (kind === 'dir') continue;
      const seen = layer.seen.get(path);
      if (seen === undefined) continue; // not recorded (inside a new directory, or unrecordable): no conflict
      const now = currentIdentity(path);
      if (now !== seen) out.push({ path, world: layer.world, seen, now });
    }
    // A directory the layer deleted or moved away (a whiteout) takes what was inside with it: what
    // the world saw in there before its first change counts as well. Without this, a file changed
    // in the ancestor after the child changed it and then moved its directory would be lost silently.
    // What it saw there came from a lower merged layer if one replaced a directory above it (or
    // changed the path itself: decided): that layer's record counts, as above. Under a directory
    // the layer itself replaced ('entry': opaque, redirected) records are not compared: under a
    // redirect they name what the child moved there, which the ancestor has under the old name.
    for (const [path, seen] of layer.seen) {
      if (layer.touched.has(path) || decided.has(path) || hidingAncestor(lower, path) !== undefined) continue;
      const removedWith = hidingAncestor(layer.touched, path);
      if (removedWith === undefined || layer.touched.get(removedWith) !== 'whiteout') continue;
      decided.add(path);
      const now = currentIdentity(path);
      if (now !== seen) out.push({ path, world: layer.world, seen, now, removedWith });
    }
    for (const [path, kind] of layer.touched) if (!lower.has(path)) lower.set(path, kind);
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/**
 * The nearest proper ancestor of `path` whose change hides what was below it (anything but a
 * directory only merged into), if any.
 */
function hidingAncestor(touched: ReadonlyMap<string, 'entry' | 'whiteout' | 'dir'>, path: string): string | undefined {
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const a = path.slice(0, i);
    const kind = touched.get(a);
    if (kind !== undefined && kind !== 'dir') return a;
  }
  return undefined;
}
