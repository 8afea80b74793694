// Soak of the kernel transport's lookup counts: many stats (WORLDFS_SOAK_STATS, 10,000 by default,
// two lookups each; 500,000 for the full soak of a million lookups) and creates and unlinks (one
// per 100 stats), with the kernel made to forget everything now and then (drop_caches). Every
// lookup the daemon counted must come back as a FORGET, the node table must shrink back to the
// root, and the daemon's memory must stay flat. Counts and memory come from the daemon itself
// (SIGUSR2 -> one stats line on stderr).
// Only the kernel transport keeps a node table; fuse-native's libfuse does its own.
import { mkdirSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { daemonStats, mountWorldfs, stackDirs, tempDir, unmountAll, type Mounted } from '../helpers/worldfs.js';

const STATS = Number(process.env.WORLDFS_SOAK_STATS ?? 10_000);
const DIRS = 20;
const FILES = 50;
const CHECKPOINTS = 5;

type Stats = { nodes: number; lookups: number; forgets: number; rss: number; heapUsed: number };

async function stats(m: Mounted): Promise<Stats> {
  return (await daemonStats(m)) as Stats;
}

function dropCaches(): void {
  writeFileSync('/proc/sys/vm/drop_caches', '2');
}

/** Stats once every lookup has been forgotten (the kernel sends FORGETs in batches, soon after). */
async function settled(m: Mounted): Promise<Stats> {
  let s = await stats(m);
  for (let i = 0; i < 40 && s.lookups !== s.forgets; i++) {
    dropCaches();
    await new Promise((r) => setTimeout(r, 50));
    s = await stats(m);
  }
  return s;
}

let dirs: { cleanup(): void } | undefined;
afterEach(async () => {
  await unmountAll();
  dirs?.cleanup();
});

describe('kernel transport soak', () => {
  // The deadline is a hang detector sized to the soak (the full one takes minutes), never a speed check.
  it(`forgets every lookup of ${STATS} stats and keeps its memory flat through creates and unlinks`, { timeout: Math.max(300_000, STATS * 4) }, async () => {
    const t = tempDir('worldos-soak-');
    dirs = t;
    const { lowers, upper, work, mnt } = stackDirs(t.path, 1);
    for (let d = 0; d < DIRS; d++) {
      mkdirSync(join(lowers[0]!, `d${d}`));
      for (let f = 0; f < FILES; f++) writeFileSync(join(lowers[0]!, `d${d}`, `f${f}`), `${d}/${f}`);
    }
    // timeout=0 and no watch: nothing is cached, so every stat is a LOOKUP the daemon counts.
    const m = await mountWorldfs({ lowers, upper, work, mnt, options: ['transport=kernel', 'timeout=0', 'notify=none'] });
    const rounds = Math.ceil(STATS / (DIRS * FILES));
    const samples: Stats[] = [];
    let created = 0;
    for (let round = 0; round < rounds; round++) {
      for (let d = 0; d < DIRS; d++) for (let f = 0; f < FILES; f++) statSync(join(mnt, `d${d}`, `f${f}`));
      for (let i = 0; i < 10; i++) {
        const p = join(mnt, `d${(round + i) % DIRS}`, `new${i}`);
        writeFileSync(p, 'x');
        unlinkSync(p);
        created++;
      }
      if ((round + 1) % Math.max(1, Math.floor(rounds / CHECKPOINTS)) === 0) {
        dropCaches();
        samples.push(await settled(m));
      }
    }
    const end = await settled(m);
    process.stderr.write(`kernel soak: ${rounds * DIRS * FILES} stats, ${created} creates+unlinks; ` +
      `daemon ${JSON.stringify(end)}; rss by checkpoint (MiB): ${samples.map((s) => (s.rss / 2 ** 20).toFixed(1)).join(' ')}\n`);
    expect(end.lookups).toBeGreaterThanOrEqual(rounds * DIRS * FILES);
    expect(end.forgets, 'every lookup comes back as a FORGET').toBe(end.lookups);
    expect(end.nodes, 'the node table is back to the root').toBe(1);
    // Memory: a leak of one node per lookup would be hundreds of MiB; allow for GC and buffers.
    const first = samples[0]!;
    expect(end.rss - first.rss, 'rss growth after the first checkpoint').toBeLessThan(64 * 2 ** 20);
  });
});
