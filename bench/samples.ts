// The raw figures of a run, as they come in: values, deadline hits, failures and skipped runs, by
// figure key (`<session>/<figure>`) and peer. Summaries are computed from it later (stats.ts).
import type { PeerId } from './options.js';
import type { Sample } from './stats.js';

/** Samples by figure key, then by peer. */
export type Samples = Map<string, Partial<Record<PeerId, Sample>>>;

export class SampleBook {
  readonly samples: Samples = new Map();

  get(key: string, peer: PeerId): Sample {
    let byPeer = this.samples.get(key);
    if (!byPeer) this.samples.set(key, (byPeer = {}));
    return (byPeer[peer] ??= { runs: [], errors: [], censored: 0, skipped: 0 });
  }

  record(key: string, peer: PeerId, value: number): void {
    this.get(key, peer).runs.push(value);
  }

  /** A run that hit the deadline: its value is the deadline, a lower bound. */
  censor(key: string, peer: PeerId, seconds: number): void {
    const s = this.get(key, peer);
    s.runs.push(seconds);
    s.censored++;
  }

  fail(key: string, peer: PeerId, e: unknown): void {
    this.get(key, peer).errors.push((e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').slice(0, 300));
  }

  skip(key: string, peer: PeerId): void {
    this.get(key, peer).skipped++;
  }

  /** The last value recorded, formatted by `fmt`, or FAIL when this run added none. */
  latest(key: string, peer: PeerId, before: number, fmt: (v: number) => string): string {
    const s = this.get(key, peer);
    return s.runs.length > before ? fmt(s.runs[s.runs.length - 1]!) : 'FAIL';
  }
}
