// Summaries of the runs: median, min, max, ratios to the floor and to fuse-overlayfs, and
// least-squares slopes (depth scaling, merge cost per file). Pure.
import type { PeerId } from './options.js';
import type { Unit } from './workloads/workload.js';

export interface Stat {
  readonly runs: readonly number[];
  /** How many of `runs` hit the deadline (their value is the deadline: a lower bound). */
  readonly censored: number;
  /** The median is itself a lower bound (most runs hit the deadline). */
  readonly bound: boolean;
  /** Runs not made because one run went over the session budget. */
  readonly skipped: number;
  readonly median?: number;
  readonly min?: number;
  readonly max?: number;
  readonly errors: readonly string[];
  /** median / ext4's median, same run (a lower bound when `bound`). */
  readonly vsExt4?: number;
  /** median / fuse-overlayfs's median, same run (a lower bound when `bound`). */
  readonly vsFuseOverlayfs?: number;
}

export interface FigureSummary {
  /** `<session>/<figure>` */
  readonly key: string;
  readonly session: string;
  readonly group: string;
  readonly label: string;
  readonly unit: Unit;
  readonly byPeer: Partial<Record<PeerId, Stat>>;
}

export interface Sample {
  readonly runs: number[];
  readonly errors: string[];
  censored: number;
  skipped: number;
}

export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** One column's runs summarised (no ratios). */
export function summarizeSample(s: Sample): Stat {
  // Censored runs sort last: the median is a bound when it falls on one of them.
  const sorted = [...s.runs].sort((a, b) => a - b);
  const withInf = sorted.map((v, i) => (i >= sorted.length - s.censored ? Infinity : v));
  return {
    runs: s.runs, errors: s.errors, censored: s.censored, skipped: s.skipped,
    bound: s.censored > 0 && median(withInf) === Infinity, median: median(s.runs),
    min: s.runs.length ? Math.min(...s.runs) : undefined, max: s.runs.length ? Math.max(...s.runs) : undefined,
  };
}

export function summarize(samples: Partial<Record<PeerId, Sample>>, ratios: boolean): Partial<Record<PeerId, Stat>> {
  const base: Partial<Record<PeerId, Stat>> = {};
  for (const [peer, s] of Object.entries(samples) as [PeerId, Sample][]) base[peer] = summarizeSample(s);
  if (!ratios) return base;
  // A reference that is itself a bound gives no ratio.
  const ext4 = base.ext4?.bound ? undefined : base.ext4?.median;
  const fo = base['fuse-overlayfs']?.bound ? undefined : base['fuse-overlayfs']?.median;
  const out: Partial<Record<PeerId, Stat>> = {};
  for (const [peer, st] of Object.entries(base) as [PeerId, Stat][]) {
    out[peer] = { ...st, vsExt4: ratio(st.median, ext4), vsFuseOverlayfs: ratio(st.median, fo) };
  }
  return out;
}

/** a / b, undefined when either is missing or b is too small to divide by meaningfully. */
export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || !(b > 0)) return undefined;
  return a / b;
}

/** Least-squares slope of y over x; undefined with fewer than two points. */
export function slope(points: readonly (readonly [number, number])[]): number | undefined {
  if (points.length < 2) return undefined;
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? undefined : num / den;
}

export interface Scaling {
  readonly peer: PeerId;
  readonly metric: string;
  /** (x, median, the median is a lower bound) in x order. */
  readonly points: readonly (readonly [number, number, boolean])[];
  /** Seconds per unit of x (per layer, per changed file). */
  readonly slope?: number;
  /** median at the largest x / median at the smallest. */
  readonly growth?: number;
  /** Some point is a lower bound (its runs hit the deadline): slope and growth are at least this. */
  readonly bound: boolean;
}

/** Scaling of one metric over sessions parameterised by x (e.g. lookup-1, lookup-4, ...). */
export function scaling(figures: readonly FigureSummary[], keyOf: (x: number) => string, xs: readonly number[], metric: string, peers: readonly PeerId[]): Scaling[] {
  return peers.map((peer) => {
    const points: [number, number, boolean][] = [];
    for (const x of xs) {
      const st = figures.find((f) => f.key === keyOf(x))?.byPeer[peer];
      if (st?.median !== undefined) points.push([x, st.median, st.bound]);
    }
    const first = points[0];
    const last = points[points.length - 1];
    // A bound at the shallow end would make growth and slope meaningless (not even a bound).
    const usable = first !== undefined && !first[2];
    const growth = usable && points.length >= 2 && last && first[0] === xs[0] && last[0] === xs[xs.length - 1] ? ratio(last[1], first[1]) : undefined;
    const xy = points.map(([x, y]) => [x, y] as const);
    return { peer, metric, points, slope: usable ? slope(xy) : undefined, growth, bound: points.some((p) => p[2]) };
  }).filter((s) => s.points.length > 0);
}
