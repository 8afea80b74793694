// What a merge does with a conflict: a path the child changed whose version in the ancestor has
// changed since the child first saw it. A strategy: researchers add a row to MERGE_POLICIES.

export interface Conflict {
  readonly path: string;
  /** The merged world whose change is the first (lowest) one at this path. */
  readonly world: string;
  /** What that world's view showed before its change, and what the ancestor shows now. */
  readonly seen: string;
  readonly now: string;
  /**
   * The directory whose deletion or move away by `world` removed this path, when the change is
   * not at the path itself: keeping the ancestor's version means keeping that directory.
   */
  readonly removedWith?: string;
}

/** The path whose change a policy drops to keep the ancestor's version of the conflicted path. */
export function changeOf(c: Conflict): string {
  return c.removedWith ?? c.path;
}

/** What the world did at the conflicted path, for a report: `changed by "C"`. */
export function describeChange(c: Conflict): string {
  return c.removedWith === undefined ? `changed by "${c.world}"` : `removed with ${c.removedWith} by "${c.world}"`;
}

/** take-child: apply the child's version; keep-parent: leave the ancestor's; abort: merge nothing. */
export type Decision = 'take-child' | 'keep-parent' | 'abort';

export interface MergePolicy {
  readonly id: string;
  readonly describe: string;
  decide(conflict: Conflict): Decision;
}

export const MERGE_POLICIES: ReadonlyMap<string, MergePolicy> = new Map<string, MergePolicy>([
  ['fail', { id: 'fail', describe: 'refuse the merge when any path conflicts (nothing changes)', decide: () => 'abort' }],
  ['child', { id: 'child', describe: "the child's version wins", decide: () => 'take-child' }],
  ['parent', { id: 'parent', describe: "the ancestor's version stays; the child's change at that path is dropped", decide: () => 'keep-parent' }],
]);
