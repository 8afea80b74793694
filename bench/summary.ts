// From raw samples to the figures of the result document, in session order. Pure.
import type { PeerId } from './options.js';
import type { Sizes } from './sizes.js';
import { scaling, summarize, type FigureSummary, type Scaling } from './stats.js';
import type { Samples } from './samples.js';
import { MEMORY_KEY } from './suite.js';
import { lookupSessionId } from './workloads/lookup.js';
import type { Session } from './workloads/workload.js';
import type { WorldsSession } from './workloads/worlds.js';

export function summarizeFigures(samples: Samples, sessions: readonly Session[], worlds: WorldsSession | undefined): FigureSummary[] {
  const out: FigureSummary[] = [];
  for (const s of sessions) {
    for (const f of s.figures) {
      const key = `${s.id}/${f.key}`;
      out.push({ key, session: s.id, group: s.group, label: f.label, unit: f.unit, byPeer: summarize(samples.get(key) ?? {}, f.unit === 's') });
    }
  }
  for (const s of sessions) {
    const key = `${s.id}/${MEMORY_KEY}`;
    const got = samples.get(key);
    if (got) out.push({ key, session: s.id, group: 'memory', label: `daemon peak memory, ${s.id} session`, unit: 'MiB', byPeer: summarize(got, true) });
  }
  if (worlds) {
    for (const f of worlds.figures) {
      const key = `${worlds.id}/${f.key}`;
      out.push({ key, session: worlds.id, group: 'worlds', label: f.label, unit: f.unit, byPeer: summarize(samples.get(key) ?? {}, false) });
    }
  }
  return out;
}

export function depthScaling(figures: readonly FigureSummary[], sizes: Sizes, peers: readonly PeerId[]): Scaling[] {
  const keyOf = (metric: string) => (k: number) => `${lookupSessionId(k)}/${metric}`;
  return ['walk-cold', 'walk-warm', 'negative'].flatMap((m) => scaling(figures, keyOf(m), sizes.depths, m, peers));
}

export function mergeScaling(figures: readonly FigureSummary[], sizes: Sizes): Scaling[] {
  return scaling(figures, (k) => `worlds/merge-${k}`, sizes.mergeChanges, 'merge', ['worldfs']);
}
