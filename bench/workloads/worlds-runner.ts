// Runs the worlds session (worldctl, worldfs only) `runs` times, each in a fresh scratch directory,
// recording every figure, deadline hit or failure under the worldfs peer.
import { join } from 'node:path';
import { DeadlineError, run } from '../proc.js';
import { fmtSeconds } from '../report/format.js';
import type { SuiteEnv } from '../suite.js';
import type { WorldsSession } from './worlds.js';

export async function runWorlds(env: SuiteEnv, repo: string, w: WorldsSession): Promise<void> {
  const worldctl = join(repo, 'dist', 'worldctl');
  const key = (k: string) => `${w.id}/${k}`;
  for (let r = 0; r < env.runs; r++) {
    const scratch = env.scratch.fresh();
    const before = new Map(w.figures.map((f) => [f.key, env.book.get(key(f.key), 'worldfs').runs.length]));
    const touched = new Set<string>();
    try {
      await w.run({
        fixtures: env.fixtures, scratch,
        worldctl: async (home, ...args) => (await run(worldctl, ['--home', home, ...args], { timeoutSec: env.timeoutSec })).seconds,
        client: (op, ...args) => env.client.request(op, ...args),
        measure: async (k, fn) => {
          touched.add(k);
          try {
            env.book.record(key(k), 'worldfs', await fn());
          } catch (e) {
            if (e instanceof DeadlineError) env.book.censor(key(k), 'worldfs', e.seconds);
            else env.book.fail(key(k), 'worldfs', e);
          }
        },
      });
    } catch (e) {
      // A setup step failed: every figure this run did not reach is marked with why.
      for (const f of w.figures) if (!touched.has(f.key)) env.book.fail(key(f.key), 'worldfs', `setup: ${(e as Error).message}`);
    } finally {
      env.scratch.remove(scratch);
    }
    const done = w.figures.map((f) => `${f.key} ${env.book.latest(key(f.key), 'worldfs', before.get(f.key)!, fmtSeconds)}`);
    env.log(`  worlds run ${r + 1}/${env.runs}: ${done.join(', ')}`);
  }
}
