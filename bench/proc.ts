// Child processes of the suite. Every workload runs in a child (never in this process, and never
// in a daemon's), in its own process group, so that a deadline or a signal can end it whole.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export interface Finished {
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Wall time from spawn to exit, measured here. */
  readonly seconds: number;
}

/** Process groups of running workload children, so a signal handler can kill them. */
export const runningGroups = new Set<number>();

export class CommandError extends Error {
  constructor(message: string, readonly result?: Finished) {
    super(message);
    this.name = 'CommandError';
  }
}

/** A command or client request that ran past its deadline (and was killed): a censored figure. */
export class DeadlineError extends Error {
  constructor(message: string, readonly seconds: number) {
    super(message);
    this.name = 'DeadlineError';
  }
}

export interface RunOptions {
  readonly cwd?: string;
  readonly timeoutSec: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** Run `cmd args` to its end; rejects on a non-zero exit or the deadline (its group is killed). */
export function run(cmd: string, args: readonly string[], opts: RunOptions): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let seconds = 0;
    let timedOut = false;
    let settled = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => { if (stdout.length < 1 << 20) stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < 1 << 16) stderr += d; });
    if (child.pid !== undefined) runningGroups.add(child.pid);
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, opts.timeoutSec * 1000);
    child.on('exit', () => { seconds = Number(process.hrtime.bigint() - t0) / 1e9; });
    child.on('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.pid !== undefined) runningGroups.delete(child.pid);
      reject(new CommandError(`${cmd}: ${e.message}`));
    });
    child.on('close', (code, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (child.pid !== undefined) runningGroups.delete(child.pid);
      const r: Finished = { code, signal, stdout, stderr, seconds };
      const what = `${cmd} ${args.join(' ')}`.slice(0, 200);
      if (timedOut) return reject(new DeadlineError(`over the ${opts.timeoutSec} s deadline: ${what}`, opts.timeoutSec));
      if (code !== 0) {
        // The first line (often the error of a stack trace) and the last three.
        const lines = stderr.trim().split('\n');
        const tail = (lines.length > 4 ? [lines[0]!, '...', ...lines.slice(-3)] : lines).join(' | ');
        return reject(new CommandError(`exit ${code ?? signal}: ${what}${tail ? ` — ${tail}` : ''}`, r));
      }
      resolve(r);
    });
  });
}

/** Run a shell command line; resolves to its wall time in seconds. */
export async function timeShell(line: string, opts: RunOptions): Promise<number> {
  return (await run('sh', ['-c', line], opts)).seconds;
}

export function killGroup(pid: number | undefined, signal: NodeJS.Signals = 'SIGKILL'): void {
  if (pid === undefined) return;
  try { process.kill(-pid, signal); } catch { /* gone */ }
}

/**
 * Drop the page, dentry and inode caches (root only). `flush` first: needed after writing, as dirty
 * pages cannot be dropped and their writeback would land in the next measurement.
 */
export function dropCaches(flush: boolean): void {
  if (flush) execFileSync('sync');
  writeFileSync('/proc/sys/vm/drop_caches', '3');
}

/** Drop the kernel's unused dentries and inodes only (file data stays cached): FUSE daemons then get FORGETs. */
export function dropDentriesAndInodes(): void {
  writeFileSync('/proc/sys/vm/drop_caches', '2');
}

/** Peak resident memory of a live process, in KiB (VmHWM), or undefined once it is gone. */
export function peakMemoryKiB(pid: number): number | undefined {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie still answers kill(0); it is dead for our purposes.
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Synchronous sleep, for signal-time cleanup only. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** First line of a command's output, or undefined when it cannot run. */
export function firstLine(cmd: string, args: readonly string[]): string | undefined {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
    return out.trim().split('\n')[0];
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    const text = `${err.stdout ?? ''}${err.stderr ?? ''}`.trim();
    return text ? text.split('\n')[0] : undefined;
  }
}
