// The raw figures of a run, as they come in: values, deadline hits, failures and skipped runs, by
// figure key (`<session>/<figure>`) and column: a peer, or a side of the world figures (pairs.ts).
// Summaries are computed from it later (stats.ts).
import type { PeerId } from './options.js';
import type { Sample } from './stats.js';

/** Samples by figure key, then by peer (or other column). */
export type Samples<C extends string = PeerId> = Map<string, Partial<Record<C, Sample>>>;

export class SampleBook<C extends string = PeerId> {
  readonly samples: Samples<C> = new Map();

  get(key: string, peer: C): Sample {
    let byPeer = this.samples.get(key);
    if (!byPeer) this.samples.set(key, (byPeer = {}));
    return (byPeer[peer] ??= { runs: [], errors: [], censored: 0, skipped: 0 });
  }

  record(key: string, peer: C, value: number): void {
    this.get(key, peer).runs.push(value);
  }

  /** A run that hit the deadline: its value is the deadline, a lower bound. */
  censor(key: string, peer: C, seconds: number): void {
    const s = this.get(key, peer);
    s.runs.push(seconds);
    s.censored++;
  }

  fail(key: string, peer: C, e: unknown): void {
    this.get(key, peer).errors.push((e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').slice(0, 300));
  }

  skip(key: string, peer: C): void {
    this.get(key, peer).skipped++;
  }

  /** The last value recorded, formatted by `fmt`, or FAIL when this run added none. */
  latest(key: string, peer: C, before: number, fmt: (v: number) => string): string {
    const s = this.get(key, peer);
    return s.runs.length > before ? fmt(s.runs[s.runs.length - 1]!) : 'FAIL';
  }
}
