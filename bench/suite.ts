// The executor of mount sessions: every session, run after run, on every available peer in a
// rotating order (so no peer always follows the same one), each time on a fresh mount with the
// caches dropped. A failure is recorded against the figures it cost and the suite goes on; nothing
// is silently dropped. A peer that has spent its budget on a session gets no more runs of it.
import type { ClientProcess } from './client-process.js';
import type { Fixtures } from './fixtures.js';
import type { PeerId } from './options.js';
import type { Peer, View } from './peers/peer.js';
import { DeadlineError, dropCaches, peakMemoryKiB, run, timeShell, type RunOptions } from './proc.js';
import { fmtSeconds } from './report/format.js';
import type { SampleBook } from './samples.js';
import type { ScratchDirs } from './scratch.js';
import type { Sizes } from './sizes.js';
import type { PhaseCtx, Session } from './workloads/workload.js';

export interface SuiteEnv {
  readonly sizes: Sizes;
  readonly runs: number;
  readonly timeoutSec: number;
  /** Seconds one peer may spend on one session, all its runs together (the first run always happens). */
  readonly sessionBudgetSec: number;
  readonly fixtures: Fixtures;
  readonly book: SampleBook;
  readonly scratch: ScratchDirs;
  readonly client: ClientProcess;
  readonly log: (line: string) => void;
}

export const MEMORY_KEY = 'peak-mem';

export async function runSession(env: SuiteEnv, s: Session, peers: readonly Peer[]): Promise<void> {
  const lowers = env.fixtures.get(s.fixture);
  if (!lowers) throw new Error(`fixture ${s.fixture} was not built`);
  const keysOf = (peer: Peer) => [...s.figures.map((f) => `${s.id}/${f.key}`), ...(peer.kind === 'fuse' ? [`${s.id}/${MEMORY_KEY}`] : [])];
  // A peer gets another run only while its time so far, plus one more run like its average, stays
  // within the budget.
  const spent = new Map<PeerId, { seconds: number; runs: number }>();
  const stopped = new Set<PeerId>();
  const headline = `${s.id}/${s.figures[0]!.key}`;
  for (let r = 0; r < env.runs; r++) {
    const order = peers.map((_, i) => peers[(i + r) % peers.length]!);
    const line: string[] = [];
    for (const peer of order) {
      const used = spent.get(peer.id) ?? { seconds: 0, runs: 0 };
      if (stopped.has(peer.id) || (used.runs > 0 && used.seconds + used.seconds / used.runs > env.sessionBudgetSec)) {
        stopped.add(peer.id);
        for (const k of keysOf(peer)) env.book.skip(k, peer.id);
        line.push(`${peer.id} skipped (budget)`);
        continue;
      }
      const before = env.book.get(headline, peer.id).runs.length;
      const t0 = Date.now();
      await runOnce(env, s, peer, lowers);
      spent.set(peer.id, { seconds: used.seconds + (Date.now() - t0) / 1000, runs: used.runs + 1 });
      line.push(`${peer.id} ${env.book.latest(headline, peer.id, before, fmtSeconds)}`);
    }
    env.log(`  ${s.id} run ${r + 1}/${env.runs} (${s.figures[0]!.key}): ${line.join(', ')}`);
  }
}

async function runOnce(env: SuiteEnv, s: Session, peer: Peer, lowers: readonly string[]): Promise<void> {
  const scratch = env.scratch.fresh();
  const trace = traceFor(`${s.id} ${peer.id}`);
  const key = (k: string) => `${s.id}/${k}`;
  let view: View | undefined;
  try {
    try {
      view = await peer.mount({ lowers, scratch, writes: s.writes });
      trace('mounted');
    } catch (e) {
      for (const f of s.figures) env.book.fail(key(f.key), peer.id, `mount: ${(e as Error).message}`);
      if (peer.kind === 'fuse') env.book.fail(key(MEMORY_KEY), peer.id, `mount: ${(e as Error).message}`);
      return;
    }
    dropCaches(s.writes !== 'none');
    trace('caches dropped');
    const opts: RunOptions = { timeoutSec: env.timeoutSec };
    const ctx: PhaseCtx = {
      view, sizes: env.sizes,
      sh: (line) => timeShell(line, opts),
      shOut: (line) => run('sh', ['-c', line], opts),
      client: (op, ...args) => env.client.request(op, ...args),
    };
    const unit = new Map(s.figures.map((f) => [f.key, f.unit]));
    for (const phase of s.phases) {
      try {
        const values = await phase.run(ctx);
        for (const k of phase.keys) {
          const v = values[k];
          if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`phase gave no value for ${k}`);
        }
        for (const k of phase.keys) env.book.record(key(k), peer.id, values[k]!);
      } catch (e) {
        for (const k of phase.keys) {
          // Past the deadline a time is a lower bound; any other figure of the phase is lost.
          if (e instanceof DeadlineError && unit.get(k) === 's') env.book.censor(key(k), peer.id, e.seconds);
          else env.book.fail(key(k), peer.id, e);
        }
      }
      trace(phase.keys.join(','));
    }
    if (view.daemonPid !== undefined) {
      const kib = peakMemoryKiB(view.daemonPid);
      if (kib === undefined) env.book.fail(key(MEMORY_KEY), peer.id, 'the daemon was gone before its memory could be read');
      else env.book.record(key(MEMORY_KEY), peer.id, kib / 1024);
    }
  } finally {
    await view?.close();
    trace('closed');
    env.scratch.remove(scratch);
    trace('scratch removed');
  }
}

/** BENCH_TRACE=1: one stderr line per step of a session, with the time since the previous one. */
function traceFor(what: string): (step: string) => void {
  if (!process.env.BENCH_TRACE) return () => {};
  let last = process.hrtime.bigint();
  return (step) => {
    const now = process.hrtime.bigint();
    process.stderr.write(`    trace ${what}: ${step} +${fmtSeconds(Number(now - last) / 1e9)}\n`);
    last = now;
  };
}
