// World figures as pairs: the same command on a reference (the host, or a kernel-overlayfs chroot
// for apt) and in a world, first runs apart from the warm ones, as ratios of medians, each judged
// against issue 11's target. Pure: a function of the samples.
import type { Samples } from './samples.js';
import { ratio, summarizeSample, type Stat } from './stats.js';
import type { Unit } from './workloads/workload.js';

/** Columns of the world figures: warm runs on each side, and the first run of each. */
export type Side = 'ref' | 'world' | 'ref-first' | 'world-first';

export type Target =
  | { readonly kind: 'ratio'; readonly value: number }
  | { readonly kind: 'seconds'; readonly value: number }
  | { readonly kind: 'MiB'; readonly value: number };

export interface PairDef {
  readonly key: string;
  readonly session: string;
  readonly label: string;
  readonly unit: Unit;
  readonly target: Target;
}

export interface PairFigure extends PairDef {
  /** What the world is compared with ("host", "overlayfs chroot"). */
  readonly reference: string;
  readonly ref?: Stat;
  readonly world?: Stat;
  readonly refFirst?: Stat;
  readonly worldFirst?: Stat;
  /** world median / reference median (a lower bound when the world's median is one). */
  readonly ratio?: number;
  readonly firstRatio?: number;
  /** Whether the target is met; undefined when there is no figure to judge. */
  readonly met?: boolean;
}

/** Summaries of `defs` from `samples` (keyed `<session>/<key>`), compared with `reference`. */
export function summarizePairs(samples: Samples<Side>, defs: readonly PairDef[], reference: string): PairFigure[] {
  return defs.map((d) => {
    const got = samples.get(`${d.session}/${d.key}`) ?? {};
    const st = (side: Side) => (got[side] ? summarizeSample(got[side]) : undefined);
    const ref = st('ref');
    const world = st('world');
    const refFirst = st('ref-first');
    const worldFirst = st('world-first');
    const r = ref?.bound ? undefined : ratio(world?.median, ref?.median);
    const rf = refFirst?.bound ? undefined : ratio(worldFirst?.median, refFirst?.median);
    return { ...d, reference, ref, world, refFirst, worldFirst, ratio: r, firstRatio: rf, met: judge(d.target, world, r) };
  });
}

/** Met when the world's figure is within the target; a lower bound past it is a miss, never a pass. */
export function judge(t: Target, world: Stat | undefined, r: number | undefined): boolean | undefined {
  if (world?.median === undefined) return undefined;
  switch (t.kind) {
    case 'ratio': return r === undefined ? (world.bound ? false : undefined) : !world.bound && r <= t.value;
    case 'seconds': return !world.bound && world.median <= t.value;
    // A peak "through the whole run": the largest value seen, not the median.
    case 'MiB': return (world.max ?? world.median) <= t.value;
  }
}
