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
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}
