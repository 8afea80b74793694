// Number formatting shared by the table, the Markdown and the chart. Pure.
import type { Stat } from '../stats.js';
import type { Unit } from '../workloads/workload.js';

export function fmtValue(v: number | undefined, unit: Unit): string {
  if (v === undefined) return '—';
  if (unit === 's') return fmtSeconds(v);
  if (unit === 'KiB') return `${Math.round(v).toLocaleString('en-US')} KiB`;
  return `${v.toFixed(v >= 100 ? 0 : 1)} MiB`;
}

export function fmtRatio(r: number | undefined): string {
  if (r === undefined) return '—';
  if (r >= 100) return `${r.toFixed(0)}x`;
  if (r >= 10) return `${r.toFixed(1)}x`;
  return `${r.toFixed(2)}x`;
}

/**
 * A cell: the median, or why there is none. ">": a lower bound (runs hit the deadline); "(n)": only
 * n runs (the others skipped, over the session budget); "*": some runs failed.
 */
export function fmtCell(st: Stat | undefined, unit: Unit, unavailable: boolean): string {
  if (unavailable) return 'n/a';
  if (!st) return '';
  if (st.median === undefined) return st.errors.length ? 'FAIL' : '';
  return (st.bound ? '>' : '') + fmtValue(st.median, unit) + (st.skipped > 0 ? `(${st.runs.length})` : '') + (st.errors.length ? '*' : '');
}

/** A ratio of a stat, marked as a lower bound when its median is one. */
export function fmtStatRatio(st: Stat | undefined, which: 'vsExt4' | 'vsFuseOverlayfs'): string {
  const r = st?.[which];
  if (r === undefined) return '—';
  return (st!.bound ? '>' : '') + fmtRatio(r);
}

export const CELL_LEGEND = '">": lower bound (runs hit the deadline); "(n)": only n runs (the others would have passed the session budget); "*": some runs failed; FAIL: all failed; n/a: peer cannot run here';

export function fmtSeconds(s: number): string {
  if (s === 0) return '0';
  if (s >= 100) return `${s.toFixed(0)}s`;
  if (s >= 1) return `${s.toFixed(2)}s`;
  if (s >= 0.001) return `${(s * 1000).toFixed(s >= 0.1 ? 0 : 1)}ms`;
  return `${(s * 1e6).toFixed(0)}µs`;
}
