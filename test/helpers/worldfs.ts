// Test helper: mount a worldfs view in a child process (bin/worldfs -f) and tear it down.
// Every mount made here is registered and removed by `unmountAll()` (call it in afterEach), even
// when a test fails; the daemon is asked to stop with SIGTERM, then the mount is detached and the
// daemon killed if it does not go.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterEach } from 'vitest';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const WORLDFS = join(ROOT, 'bin', 'worldfs');

export interface Mounted {
  readonly mnt: string;
  readonly upper: string;
  readonly work?: string;
  readonly lowers: readonly string[];
  readonly proc: ChildProcess;
  /** stderr of the daemon so far (for diagnostics). */
  stderr(): string;
  /** Stop the daemon (SIGTERM) and wait for it and its mount to go. */
  unmount(): Promise<void>;
}

const live = new Set<Mounted>();

export interface MountSpec {
  lowers: readonly string[];
  upper: string;
  mnt: string;
  work?: string;
  whiteout?: string;
  options?: readonly string[];
}

/** Mount a view and wait until it is ready. Rejects with the daemon's error message. */
export function mountWorldfs(spec: MountSpec): Promise<Mounted> {
  mkdirSync(spec.mnt, { recursive: true });
  const o = [
    `lowerdir=${spec.lowers.map((l) => l.replace(/([:\\])/g, '\\$1')).join(':')}`,
    `upperdir=${spec.upper}`,
    ...(spec.work ? [`workdir=${spec.work}`] : []),
    ...(spec.whiteout ? [`whiteout=${spec.whiteout}`] : []),
    ...(spec.options ?? []),
  ].join(',');
  const proc = spawn(WORLDFS, ['-f', '-o', o, spec.mnt], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    env: { ...process.env, WORLDFS_READY_FD: '3' },
  });
  let err = '';
  proc.stderr!.setEncoding('utf8');
  proc.stderr!.on('data', (d: string) => { err += d; });
  const exited = new Promise<void>((res) => proc.once('exit', () => res()));
  const m: Mounted = {
    mnt: spec.mnt, upper: spec.upper, work: spec.work, lowers: spec.lowers, proc,
    stderr: () => err,
    async unmount() {
      live.delete(m);
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => {
          try { execFileSync('umount', ['-l', spec.mnt], { stdio: 'ignore' }); } catch { /* gone */ }
          proc.kill('SIGKILL');
        }, 10_000);
        await exited;
        clearTimeout(t);
      }
      if (isMounted(spec.mnt)) {
        try { execFileSync('umount', ['-l', spec.mnt], { stdio: 'ignore' }); } catch { /* gone */ }
      }
    },
  };
  live.add(m);
  return new Promise((res, rej) => {
    let text = '';
    const pipe = proc.stdio[3] as NodeJS.ReadableStream;
    pipe.setEncoding('utf8');
    pipe.on('data', (d: string) => { text += d; });
    pipe.on('end', () => {
      if (/^ready( \d+)?$/.test(text.trim())) return res(m); // "ready PID" (fs/main.ts)
      void m.unmount().then(() => rej(new Error(`worldfs did not mount: ${text.trim() || err.trim()}`)));
    });
  });
}

/**
 * The daemon's counters (SIGUSR2 prints one JSON line on stderr): the kernel transport's node
 * table and request counts, memory, and whatever else the daemon reports.
 */
export async function daemonStats(m: Mounted): Promise<Record<string, number>> {
  const before = m.stderr().split('worldfs: stats ').length;
  m.proc.kill('SIGUSR2');
  // A hang detector, not a speed check: a daemon starved by a loaded machine may take seconds.
  for (let i = 0; i < 1200; i++) {
    const parts = m.stderr().split('worldfs: stats ');
    if (parts.length > before) return JSON.parse(parts[parts.length - 1]!.split('\n')[0]!) as Record<string, number>;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the daemon printed no stats line; its stderr:\n${m.stderr()}`);
}

/** The daemon's counters (SIGUSR2's stats) that changed while `fn` ran. */
export async function statsDuring(m: Mounted, fn: () => void): Promise<Record<string, number>> {
  const before = await daemonStats(m);
  fn();
  const after = await daemonStats(m);
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]));
}

/**
 * A fresh stack of `lowerCount` layers under `dir` (filled by `prepare`), mounted with aufs
 * whiteouts and `options`, plus `fence=` where the layers are watched (not notify=none):
 * `fenced()` resolves once every lower-layer change made before it has been told to the kernel.
 */
export async function mountFencedStack(dir: string, lowerCount: number, options: readonly string[], prepare: (lowers: readonly string[]) => void = () => {}) {
  const d = stackDirs(dir, lowerCount);
  prepare(d.lowers);
  const fence = join(dir, 'fence');
  mkdirSync(fence);
  const watched = !options.includes('notify=none');
  const m = await mountWorldfs({ ...d, whiteout: 'aufs', options: [...options, ...(watched ? [`fence=${fence}`] : [])] });
  return { ...d, m, fenced: fencer(fence, watched), p: (rel = '') => join(d.mnt, rel) };
}

/**
 * For a mount with `fence=dir` (watched layers): resolves once every lower-layer change made
 * before the call has been told to the kernel (the daemon removes the file it is given then);
 * at once where nothing is watched. Throws after 30 s (a hang detector).
 */
function fencer(dir: string, watched: boolean): () => Promise<void> {
  return async () => {
    if (!watched) return;
    const f = join(dir, `f${Date.now()}${Math.random()}`);
    writeFileSync(f, '');
    for (let i = 0; i < 1200 && existsSync(f); i++) await new Promise((r) => setTimeout(r, 25));
    if (existsSync(f)) throw new Error(`the daemon did not take the fence ${f} in 30 s`);
  };
}

/** FUSE requests the daemon of `m` served while `fn` ran (its own SIGUSR2 is no request). */
export async function requestsDuring(m: Mounted, fn: () => void): Promise<number> {
  const before = (await daemonStats(m)).requests!;
  fn();
  return (await daemonStats(m)).requests! - before;
}

/** Whether a path is a mountpoint now (from /proc/self/mountinfo, never touching the mount). */
export function isMounted(mnt: string): boolean {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  return text.split('\n').some((l) => l.split(' ')[4] === mnt);
}

/** Unmount everything this helper mounted (for afterEach/afterAll). */
export async function unmountAll(): Promise<void> {
  await Promise.all([...live].map((m) => m.unmount()));
}

/** A fresh temporary directory under the OS temp dir; `cleanup()` removes it. */
export function tempDir(prefix = 'worldos-test-'): { path: string; cleanup(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return {
    path,
    cleanup: () => {
      if (!existsSync(path)) return;
      try {
        rmSync(path, { recursive: true, force: true });
      } catch {
        execFileSync('rm', ['-rf', path]); // trees deeper than PATH_MAX: Node's rmSync joins whole paths
      }
    },
  };
}

/**
 * The frame of the e2e files that mount bare stacks: the function returned makes a fresh temporary
 * directory (prefix `prefix`), and after each test, whatever happened, `first` runs (what the file
 * must undo before anything is unmounted: its processes, mounts inside a view, environment), then
 * every mount made through mountWorldfs goes, then every directory made.
 */
export function tempDirsEachTest(prefix: string, first?: () => void | Promise<void>): () => string {
  const temps: { cleanup(): void }[] = [];
  afterEach(async () => {
    try {
      await first?.();
    } finally {
      await unmountAll();
      for (const t of temps.splice(0)) t.cleanup();
    }
  });
  return () => {
    const t = tempDir(prefix);
    temps.push(t);
    return t.path;
  };
}

/** Layout for a standard test stack: <base>/{l0..lN-1, upper, work, mnt}. */
export function stackDirs(base: string, lowerCount: number) {
  const lowers = Array.from({ length: lowerCount }, (_, i) => join(base, `l${i}`));
  for (const l of lowers) mkdirSync(l, { recursive: true });
  const upper = join(base, 'upper');
  const work = join(base, 'work');
  const mnt = join(base, 'mnt');
  for (const d of [upper, work, mnt]) mkdirSync(d, { recursive: true });
  return { lowers, upper, work, mnt };
}
