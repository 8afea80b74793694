// Runs the everyday commands (in-world.ts) on the host and in one world over / made for the run:
// for each command a first run on each side after a cache drop (the world's very first `run`
// mounts it), then `runs` interleaved host/world pairs, alternating which side goes first. Every
// figure, deadline hit or failure is recorded; the world is deleted whatever happens.
import { join } from 'node:path';
import type { Cleanup } from '../cleanup.js';
import type { Side } from '../pairs.js';
import { DeadlineError, dropCaches, dropDentriesAndInodes, peakMemoryKiB, run, type Finished } from '../proc.js';
import { fmtSeconds } from '../report/format.js';
import type { SampleBook } from '../samples.js';
import type { SuiteEnv } from '../suite.js';
import { commandLine, WorldStore } from '../world-store.js';
import { buildInWorldFixtures, outDir, type SideName } from './in-world-fixtures.js';
import { RSS_KEY, type InWorldSession, type LinePlaces, type WorldCommand } from './in-world.js';

/** What the world figures need beyond the suite's environment. */
export interface WorldFiguresEnv extends SuiteEnv {
  readonly repo: string;
  readonly cleanup: Cleanup;
  readonly pairs: SampleBook<Side>;
  /** Deadline of one apt-get install (it runs triggers: longer than an everyday command). */
  readonly aptTimeoutSec: number;
}

const WORLD = 'w';

/** Resolves to the world daemon's command line (how the world was served), when it could be read. */
export async function runInWorld(env: WorldFiguresEnv, w: InWorldSession): Promise<string | undefined> {
  const fx = env.scratch.fresh();
  const store = new WorldStore(env.repo, join(env.scratch.fresh(), 'home'), env.cleanup, env.timeoutSec);
  const key = (k: string) => `${w.id}/${k}`;
  const touched = new Set<string>();
  let daemon: string | undefined;
  try {
    buildInWorldFixtures(fx, env.sizes.inWorld);
    await store.init();
    await store.create(WORLD);
    let n = 0;
    const places = (side: SideName): LinePlaces => ({ fx, out: outDir(fx, side), n: n++ });
    for (const c of w.commands) {
      touched.add(c.key);
      await runCommand(env, store, c, key(c.key), places, fx);
    }
    touched.add(RSS_KEY);
    const pid = await store.daemonPid(WORLD);
    const kib = pid === undefined ? undefined : peakMemoryKiB(pid);
    if (kib === undefined) env.pairs.fail(key(RSS_KEY), 'world', 'the world\'s daemon was gone before its memory could be read');
    else env.pairs.record(key(RSS_KEY), 'world', kib / 1024);
    daemon = pid === undefined ? undefined : commandLine(pid);
    env.log(`  in-world: daemon peak memory ${kib === undefined ? '?' : `${(kib / 1024).toFixed(1)} MiB`}`);
  } catch (e) {
    // A setup step failed: every figure not reached says why.
    for (const f of w.figures) if (!touched.has(f.key)) env.pairs.fail(key(f.key), 'world', `setup: ${(e as Error).message}`);
    env.log(`  in-world: setup failed: ${(e as Error).message}`);
  } finally {
    store.close();
    env.scratch.remove(fx);
  }
  return daemon;
}

/** One timed run: its time (the deadline when it hit it), its output, or why it failed. */
type Outcome = { seconds: number; stdout: string; censored: boolean } | { error: string };

async function runCommand(
  env: WorldFiguresEnv, store: WorldStore, c: WorldCommand, key: string, places: (s: SideName) => LinePlaces, fx: string,
): Promise<void> {
  const host = (line: string, timeoutSec: number) => run('sh', ['-c', line], { timeoutSec, cwd: fx });
  const world = (line: string, timeoutSec: number) => store.runLine(WORLD, line, timeoutSec);
  // The untimed checks get more room; past it they fail (a deadline there bounds nothing).
  const afterSec = Math.max(env.timeoutSec * 4, 60);
  /** One timed run on one side, then its untimed `after` line; the run fails if either does. */
  const once = async (side: SideName): Promise<Outcome> => {
    const p = places(side);
    const exec = side === 'host' ? host : world;
    try {
      const r: Finished = await exec(c.line(p), env.timeoutSec);
      if (c.after) {
        await exec(c.after(p), afterSec).catch((e: Error) => { throw new Error(`after the run: ${e.message}`); });
      }
      if (c.keepsOutput) dropDentriesAndInodes();
      return { seconds: r.seconds, stdout: r.stdout, censored: false };
    } catch (e) {
      if (e instanceof DeadlineError) return { seconds: e.seconds, stdout: '', censored: true };
      return { error: `${side}: ${(e as Error).message}` };
    }
  };
  // Every output the host gave: the host's tree may change during the run (packages installed by
  // others), and the world follows it, so a world output must equal one of them, not the first.
  const hostOutputs = new Set<string>();
  const record = (o: Outcome, column: Side) => {
    if ('error' in o) env.pairs.fail(key, column, o.error);
    else if (o.censored) env.pairs.censor(key, column, o.seconds);
    else env.pairs.record(key, column, o.seconds);
  };
  /** A pair of runs in the given order, recorded once both are done (so the world is checked against both host outputs). */
  const pair = async (first: SideName, columns: Record<SideName, Side>): Promise<Record<SideName, Outcome>> => {
    const got = {} as Record<SideName, Outcome>;
    for (const side of first === 'host' ? (['host', 'world'] as const) : (['world', 'host'] as const)) {
      if (columns.host === 'ref-first') dropCaches(true); // first runs: each right after a cache drop
      got[side] = await once(side);
      const h = got.host;
      if (side === 'host' && h && !('error' in h) && !h.censored) hostOutputs.add(h.stdout);
    }
    const w = got.world;
    if (c.sameOutput && !('error' in w) && !w.censored && hostOutputs.size > 0 && !hostOutputs.has(w.stdout)) {
      got.world = { error: `world: its output differs from the host's: ${firstDifference([...hostOutputs].pop()!, w.stdout)}` };
    }
    record(got.host, columns.host);
    record(got.world, columns.world);
    return got;
  };
  const first = await pair('host', { host: 'ref-first', world: 'world-first' });
  // Warm runs, interleaved; the world's time decides when the budget is spent (the first pair always runs).
  let spent = 0;
  const line: string[] = [];
  for (let r = 0; r < env.runs; r++) {
    if (r > 0 && spent + spent / r > env.sessionBudgetSec) {
      for (let k = r; k < env.runs; k++) { env.pairs.skip(key, 'ref'); env.pairs.skip(key, 'world'); }
      line.push(`${env.runs - r} skipped (budget)`);
      break;
    }
    const got = await pair(r % 2 === 0 ? 'host' : 'world', { host: 'ref', world: 'world' });
    spent += 'error' in got.world ? 0 : got.world.seconds;
    line.push(`${fmt(got.host)}/${fmt(got.world)}`);
  }
  const errors = [...env.pairs.get(key, 'world-first').errors, ...env.pairs.get(key, 'world').errors];
  const why = errors.length ? ` (world failed: ${errors[0]!.slice(0, 160)})` : '';
  env.log(`  in-world ${c.key}: first host/world ${fmt(first.host)}/${fmt(first.world)}; warm ${line.join(', ')}${why}`);
}

const fmt = (o: Outcome) => ('error' in o ? 'FAIL' : (o.censored ? '>' : '') + fmtSeconds(o.seconds));

/** The first line where two outputs differ, shortened, for the failure message. */
export function firstDifference(a: string, b: string): string {
  const la = a.split('\n');
  const lb = b.split('\n');
  for (let i = 0; i < Math.max(la.length, lb.length); i++) {
    if (la[i] !== lb[i]) return `line ${i + 1}: host ${JSON.stringify((la[i] ?? '<end>').slice(0, 80))}, world ${JSON.stringify((lb[i] ?? '<end>').slice(0, 80))}`;
  }
  return 'same lines';
}
