// Nothing the suite mounts or starts outlives it: every mount and daemon is registered here, and
// on a signal, an uncaught error or the normal end, all of them are unmounted and ended, then the
// temporary directory is removed. As a safety net, any mount under the suite's own temporary
// root and any process whose command line names that root (daemons started by worldctl) is ended too.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { isAlive, killGroup, runningGroups, sleepSync } from './proc.js';

export interface MountEntry {
  readonly mountpoint: string;
  readonly pid?: number;
}

/** Mount points from /proc/self/mountinfo, with their filesystem types. */
export function readMounts(): { mountpoint: string; fstype: string }[] {
  const out: { mountpoint: string; fstype: string }[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (line === '') continue;
    const fields = line.split(' ');
    const dash = fields.indexOf('-');
    const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    out.push({ mountpoint: unescape(fields[4]!), fstype: fields[dash + 1] ?? '' });
  }
  return out;
}

export function isMounted(mountpoint: string): boolean {
  return readMounts().some((m) => m.mountpoint === mountpoint);
}

export class Cleanup {
  private readonly mounts = new Set<MountEntry>();
  private readonly hooks = new Set<() => void>();
  private root: string | undefined;
  private done = false;

  /** The suite's temporary root: removed at the end; mounts below it are always unmounted. */
  setRoot(dir: string): void { this.root = dir; }

  track(entry: MountEntry): () => void {
    this.mounts.add(entry);
    return () => this.mounts.delete(entry);
  }

  /**
   * Run `hook` (synchronous, best effort) on any exit, before mounts are undone: for what only a
   * command can end (worlds: `worldctl delete`). Returns a function that forgets it.
   */
  atExit(hook: () => void): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  /** Trap SIGINT/SIGTERM/SIGHUP and uncaught errors: clean up, then exit. */
  trap(): void {
    const onSignal = (sig: NodeJS.Signals, code: number) => {
      process.stderr.write(`\nbench: ${sig}: unmounting and removing ${this.root ?? 'temporary files'}\n`);
      this.runSync();
      process.exit(code);
    };
    process.on('SIGINT', () => onSignal('SIGINT', 130));
    process.on('SIGTERM', () => onSignal('SIGTERM', 143));
    process.on('SIGHUP', () => onSignal('SIGHUP', 129));
    process.on('uncaughtException', (e) => {
      process.stderr.write(`bench: unexpected error: ${e.stack ?? e}\n`);
      this.runSync();
      process.exit(1);
    });
    process.on('exit', () => this.runSync());
  }

  /** Synchronous, best effort, idempotent: usable from signal handlers and 'exit'. */
  runSync(): void {
    if (this.done) return;
    this.done = true;
    for (const g of runningGroups) killGroup(g);
    for (const hook of this.hooks) {
      try { hook(); } catch (e) { process.stderr.write(`bench: cleanup: ${(e as Error).message}\n`); }
    }
    this.hooks.clear();
    for (const m of this.mounts) stopMountSync(m);
    this.mounts.clear();
    if (this.root) {
      const root = this.root;
      unmountBelow(root);
      for (const pid of processesNaming(root)) {
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
      try {
        rmSync(root, { recursive: true, force: true });
      } catch (e) {
        process.stderr.write(`bench: could not remove ${root}: ${(e as Error).message}\n`);
      }
    }
  }
}

function stopMountSync(m: MountEntry): void {
  if (m.pid !== undefined && isAlive(m.pid)) {
    try { process.kill(m.pid, 'SIGTERM'); } catch { /* gone */ }
    for (let i = 0; i < 40 && isAlive(m.pid); i++) sleepSync(50);
  }
  if (isMounted(m.mountpoint)) lazyUnmount(m.mountpoint);
  if (m.pid !== undefined && isAlive(m.pid)) {
    try { process.kill(m.pid, 'SIGKILL'); } catch { /* gone */ }
  }
}

/** Lazily unmount every mount at or below `dir` (before removing it: never delete through a view). */
export function unmountBelow(dir: string): void {
  for (const m of readMounts().reverse()) if (m.mountpoint === dir || m.mountpoint.startsWith(dir + '/')) lazyUnmount(m.mountpoint);
}

export function lazyUnmount(mountpoint: string): void {
  try { execFileSync('umount', ['-l', mountpoint], { stdio: 'ignore' }); } catch { /* not mounted */ }
}

/** Pids of processes (not this one) whose command line contains `root`: daemons we started. */
function processesNaming(root: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(root + '/')) out.push(Number(name));
    } catch { /* exited */ }
  }
  return out;
}
