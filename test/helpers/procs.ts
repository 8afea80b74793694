// Test helper: run a program without blocking the test (bounded), find worldfs daemons by their
// mountpoint through /proc, and wait for conditions with a bounded poll. Only sweepUnder (a test's
// last-resort cleanup) touches a mount.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { isWorldfsScript } from '../../src/worlds/daemon.js';

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** The program was still running after the bound and was killed. */
  timedOut: boolean;
}

/**
 * Run a program to completion, at most `timeoutMs` (then SIGKILL). Resolves when the program has
 * exited and its pipes are closed — or shortly after exit, should a descendant keep the pipes open.
 */
export function runBounded(cmd: string, args: readonly string[], opts: { timeoutMs?: number; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const kill = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, opts.timeoutMs ?? 30_000);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(kill);
      resolve({ status: child.exitCode, signal: child.signalCode, stdout, stderr, timedOut });
    };
    child.once('close', finish);
    // A daemon that inherited our pipes would hold 'close' back forever: that is a finding, not a hang.
    child.once('exit', () => setTimeout(finish, 2_000));
    child.once('error', (e) => { stderr += String(e); finish(); });
  });
}

/** The argv of a live process, or undefined once it is gone. */
export function cmdline(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((a) => a !== '');
  } catch {
    return undefined;
  }
}

/** Whether a process exists and is not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Pids of worldfs servers (node .../bin/worldfs.mjs or .../dist/fs/main.js) whose arguments name `mnt` (or a path under
 * it); with `keepers`, the keepers (dist/worldkeep) that run such servers instead.
 */
export function worldfsPids(mnt: string, keepers = false): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const argv = cmdline(Number(name));
    if (!argv || !argv.some(isWorldfsScript) || isKeeper(argv) !== keepers) continue;
    if (argv.some((a) => a === mnt || a.startsWith(mnt + '/') || a.includes('=' + mnt))) out.push(Number(name));
  }
  return out.filter(alive);
}

/** Mountpoints (from /proc/self/mountinfo) equal to or under `dir`, with their fs type and source. */
export function mountsUnder(dir: string): { mnt: string; fstype: string; source: string }[] {
  const out: { mnt: string; fstype: string; source: string }[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const mnt = f[4]!.replace(/\\040/g, ' ');
    const sep = f.indexOf('-');
    if (mnt === dir || mnt.startsWith(dir + '/')) out.push({ mnt, fstype: f[sep + 1]!, source: f[sep + 2]! });
  }
  return out;
}

/**
 * A shell command line run to completion, bounded by `timeoutMs` (a stuck daemon fails the test
 * instead of hanging it): its stdout, or an Error naming the command and why it failed.
 */
export function shellOk(cmd: string, timeoutMs: number): string {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', timeout: timeoutMs });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.error?.message ?? r.stderr}`);
  return r.stdout;
}

/** Poll `cond` every 100 ms until it holds or `ms` pass; returns whether it held. */
export async function waitUntil(cond: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Poll `cond` every 20 ms until it holds or `ms` pass, a throw counting as "not yet" (a name not
 * there yet); returns whether it held. For asynchronous effects such as a watcher's invalidations.
 */
/** Whether `p` can be stat'ed (through a mount: a lookup there), without throwing. */
export function exists(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}

export async function soon(cond: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      if (cond()) return true;
    } catch { /* not yet */ }
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `waitUntil`, failing with what was awaited when `ms` pass first. */
export async function waitFor(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  if (!(await waitUntil(cond, ms))) throw new Error(`timed out waiting for ${what}`);
}

/** A test's safety net: lazily detach every mount under `dir`, SIGKILL every process naming it. */
export function sweepUnder(dir: string): void {
  for (const { mnt } of mountsUnder(dir).reverse()) spawnSync('umount', ['-l', mnt]);
  // Keepers first (dist/worldkeep): one whose daemon is killed first would start another.
  for (const keepers of [true, false]) {
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
      const argv = cmdline(Number(name));
      if (argv?.some((a) => a.includes(dir)) && isKeeper(argv) === keepers) {
        try { process.kill(Number(name), 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }
}

const isKeeper = (argv: readonly string[]) => argv[0]?.endsWith('/worldkeep') === true;

/** The parent of a live process (the fourth field of /proc/PID/stat), or undefined once it is gone. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** The keeper (dist/worldkeep) a worldfs daemon runs under, if it does: its parent. */
export function keeperOf(pid: number): number | undefined {
  const ppid = parentOf(pid);
  return ppid !== undefined && isKeeper(cmdline(ppid) ?? []) ? ppid : undefined;
}

/** The daemon a keeper runs now (its live child), if any. */
export function daemonOf(keeper: number): number | undefined {
  for (const name of readdirSync('/proc')) {
    if (/^\d+$/.test(name) && parentOf(Number(name)) === keeper && alive(Number(name))) return Number(name);
  }
  return undefined;
}

/**
 * SIGKILL a world's daemon so that it stays dead, as a daemon without a keeper does: its keeper
 * first, which would start another on the connection. Resolves once both are gone.
 */
export async function killDaemonForGood(pid: number): Promise<void> {
  const keeper = keeperOf(pid);
  if (keeper !== undefined) process.kill(keeper, 'SIGKILL');
  process.kill(pid, 'SIGKILL');
  await waitFor('the daemon and its keeper to die', () => !alive(pid) && (keeper === undefined || !alive(keeper)));
}
