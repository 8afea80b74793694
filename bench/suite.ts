// The executor: every session, run after run, on every available peer in a rotating order (so no
// peer always follows the same one), each time on a fresh mount with the caches dropped. A failure
// is recorded against the figures it cost and the suite goes on; nothing is silently dropped.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { unmountBelow } from './cleanup.js';
import { ClientProcess } from './client-process.js';
import type { Fixtures } from './fixtures.js';
import type { PeerId } from './options.js';
import type { Peer, View } from './peers/peer.js';
import { DeadlineError, dropCaches, peakMemoryKiB, run, timeShell, type RunOptions } from './proc.js';
import type { Sizes } from './sizes.js';
import type { Sample } from './stats.js';
import { fmtSeconds } from './report/format.js';
import type { PhaseCtx, Session } from './workloads/workload.js';
import type { WorldsSession } from './workloads/worlds.js';

/** Samples by global figure key, then by peer. */
export type Samples = Map<string, Partial<Record<PeerId, Sample>>>;

export interface SuiteEnv {
  readonly repo: string;
  readonly scratch: string;
  readonly sizes: Sizes;
  readonly runs: number;
  readonly timeoutSec: number;
  /** Seconds one peer may spend on one session, all its runs together (the first run always happens). */
  readonly sessionBudgetSec: number;
  readonly fixtures: Fixtures;
  readonly log: (line: string) => void;
}

export const MEMORY_KEY = 'peak-mem';

export class Suite {
  readonly samples: Samples = new Map();
  private nextScratch = 0;

  constructor(private readonly env: SuiteEnv) {
    this.clientProcess = new ClientProcess(env.repo, env.timeoutSec);
  }

  private sample(key: string, peer: PeerId): Sample {
    let byPeer = this.samples.get(key);
    if (!byPeer) this.samples.set(key, (byPeer = {}));
    return (byPeer[peer] ??= { runs: [], errors: [], censored: 0, skipped: 0 });
  }

  private record(session: string, key: string, peer: PeerId, value: number): void {
    this.sample(`${session}/${key}`, peer).runs.push(value);
  }

  /** A phase ran past its deadline: its time figures get the deadline, marked as a lower bound. */
  private censor(session: string, keys: readonly string[], units: ReadonlyMap<string, string>, peer: PeerId, e: DeadlineError): void {
    for (const k of keys) {
      if (units.get(k) !== 's') { this.fail(session, [k], peer, e); continue; }
      const s = this.sample(`${session}/${k}`, peer);
      s.runs.push(e.seconds);
      s.censored++;
    }
  }

  private fail(session: string, keys: readonly string[], peer: PeerId, e: unknown): void {
    const msg = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ').slice(0, 300);
    for (const k of keys) this.sample(`${session}/${k}`, peer).errors.push(msg);
  }

  private freshScratch(): string {
    const dir = join(this.env.scratch, String(this.nextScratch++));
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  private runOpts(): RunOptions {
    return { timeoutSec: this.env.timeoutSec };
  }

  private readonly clientProcess: ClientProcess;
  private client = (op: string, ...args: (string | number)[]): Promise<Record<string, number>> => this.clientProcess.request(op, ...args);

  /** End the client process (the suite is done). */
  close(): void {
    this.clientProcess.stop();
  }

  async runSession(s: Session, peers: readonly Peer[]): Promise<void> {
    const lowers = this.env.fixtures.get(s.fixture);
    if (!lowers) throw new Error(`fixture ${s.fixture} was not built`);
    // Seconds each peer has spent on this session so far: a peer gets another run only while
    // that, plus one more run like its average, stays within the budget (the first run is free).
    const spent = new Map<PeerId, { seconds: number; runs: number }>();
    const stopped = new Set<PeerId>();
    const headline = s.figures[0]!.key;
    for (let r = 0; r < this.env.runs; r++) {
      const order = peers.map((_, i) => peers[(i + r) % peers.length]!);
      const line: string[] = [];
      for (const peer of order) {
        const sample = this.sample(`${s.id}/${headline}`, peer.id);
        const used = spent.get(peer.id) ?? { seconds: 0, runs: 0 };
        if (stopped.has(peer.id) || (used.runs > 0 && used.seconds + used.seconds / used.runs > this.env.sessionBudgetSec)) {
          stopped.add(peer.id);
          for (const f of s.figures) this.sample(`${s.id}/${f.key}`, peer.id).skipped++;
          if (peer.kind === 'fuse') this.sample(`${s.id}/${MEMORY_KEY}`, peer.id).skipped++;
          line.push(`${peer.id} skipped (budget)`);
          continue;
        }
        const before = sample.runs.length;
        const t0 = Date.now();
        await this.runOnce(s, peer, lowers);
        spent.set(peer.id, { seconds: used.seconds + (Date.now() - t0) / 1000, runs: used.runs + 1 });
        line.push(`${peer.id} ${sample.runs.length > before ? fmtSeconds(sample.runs[sample.runs.length - 1]!) : 'FAIL'}`);
      }
      this.env.log(`  ${s.id} run ${r + 1}/${this.env.runs} (${headline}): ${line.join(', ')}`);
    }
  }

  private async runOnce(s: Session, peer: Peer, lowers: readonly string[]): Promise<void> {
    const scratch = this.freshScratch();
    let view: View | undefined;
    const trace = traceFor(`${s.id} ${peer.id}`);
    try {
      try {
        view = await peer.mount({ lowers, scratch, writes: s.writes });
        trace('mounted');
      } catch (e) {
        this.fail(s.id, [...s.figures.map((f) => f.key), ...(peer.kind === 'fuse' ? [MEMORY_KEY] : [])], peer.id, `mount: ${(e as Error).message}`);
        return;
      }
      dropCaches(s.writes !== 'none');
      trace('caches dropped');
      const opts = this.runOpts();
      const ctx: PhaseCtx = {
        view, sizes: this.env.sizes,
        sh: (line) => timeShell(line, opts),
        shOut: (line) => run('sh', ['-c', line], opts),
        client: this.client,
      };
      for (const phase of s.phases) {
        try {
          const values = await phase.run(ctx);
          for (const k of phase.keys) {
            const v = values[k];
            if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`phase gave no value for ${k}`);
          }
          for (const k of phase.keys) this.record(s.id, k, peer.id, values[k]!);
        } catch (e) {
          if (e instanceof DeadlineError) this.censor(s.id, phase.keys, new Map(s.figures.map((f) => [f.key, f.unit])), peer.id, e);
          else this.fail(s.id, phase.keys, peer.id, e);
        }
        trace(phase.keys.join(','));
      }
      if (view.daemonPid !== undefined) {
        const kib = peakMemoryKiB(view.daemonPid);
        if (kib === undefined) this.fail(s.id, [MEMORY_KEY], peer.id, 'the daemon was gone before its memory could be read');
        else this.record(s.id, MEMORY_KEY, peer.id, kib / 1024);
      }
    } finally {
      await view?.close();
      trace('closed');
      unmountBelow(scratch);
      rmSync(scratch, { recursive: true, force: true });
      trace('scratch removed');
    }
  }

  async runWorlds(w: WorldsSession): Promise<void> {
    const worldctl = join(this.env.repo, 'bin', 'worldctl');
    for (let r = 0; r < this.env.runs; r++) {
      const scratch = this.freshScratch();
      try {
        await w.run({
          fixtures: this.env.fixtures, scratch,
          worldctl: async (home, ...args) => (await run(worldctl, ['--home', home, ...args], this.runOpts())).seconds,
          client: this.client,
          measure: async (key, fn) => {
            try {
              this.record(w.id, key, 'worldfs', await fn());
            } catch (e) {
              if (e instanceof DeadlineError) this.censor(w.id, [key], new Map([[key, 's']]), 'worldfs', e);
              else this.fail(w.id, [key], 'worldfs', e);
            }
          },
        });
      } catch (e) {
        // A setup step failed: every figure this run did not reach is marked with why.
        for (const f of w.figures) {
          const s = this.sample(`${w.id}/${f.key}`, 'worldfs');
          if (s.runs.length + s.errors.length <= r) s.errors.push(`setup: ${(e as Error).message.slice(0, 300)}`);
        }
      } finally {
        unmountBelow(scratch);
        rmSync(scratch, { recursive: true, force: true });
      }
      const done = w.figures.map((f) => {
        const s = this.sample(`${w.id}/${f.key}`, 'worldfs');
        return `${f.key} ${s.runs.length > r ? fmtSeconds(s.runs[s.runs.length - 1]!) : 'FAIL'}`;
      });
      this.env.log(`  worlds run ${r + 1}/${this.env.runs}: ${done.join(', ')}`);
    }
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
