// Start a FUSE daemon in the foreground as our child (so its pid, and so its peak memory, is
// known), wait until its mount shows in /proc/self/mountinfo, and stop it for sure afterwards.
import { execFile, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { isMounted, lazyUnmount, type Cleanup } from '../cleanup.js';
import { isAlive, sleep } from '../proc.js';

const execFileP = promisify(execFile);

export interface DaemonStart {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly mountpoint: string;
  readonly log: string;
  /** How the daemon is asked to stop: `umount` of its mount, or SIGTERM (it unmounts itself). */
  readonly stop: 'umount' | 'sigterm';
  readonly env?: NodeJS.ProcessEnv;
}

export interface Daemon {
  readonly pid: number;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 10_000;

export async function startDaemon(d: DaemonStart, cleanup: Cleanup): Promise<Daemon> {
  const log = openSync(d.log, 'a');
  // Own process group: a Ctrl-C on the terminal reaches the suite, which unmounts first.
  const child = spawn(d.cmd, [...d.args], { detached: true, stdio: ['ignore', log, log], env: d.env ?? process.env });
  closeSync(log);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${d.cmd}: could not start`);
  let exited = false;
  child.on('exit', () => { exited = true; });
  child.on('error', () => { exited = true; });
  const untrack = cleanup.track({ mountpoint: d.mountpoint, pid });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!isMounted(d.mountpoint)) {
    if (exited || Date.now() > deadline) {
      const why = exited ? 'exited before mounting' : `not mounted after ${READY_TIMEOUT_MS / 1000} s`;
      await stop();
      untrack();
      throw new Error(`${d.cmd} ${why}: ${logTail(d.log)}`);
    }
    await sleep(5);
  }

  async function stop(): Promise<void> {
    try {
      if (d.stop === 'sigterm' && !exited) process.kill(pid!, 'SIGTERM');
      else if (isMounted(d.mountpoint)) await execFileP('umount', [d.mountpoint]);
    } catch { /* busy or gone: the lazy path below */ }
    const until = Date.now() + STOP_GRACE_MS;
    while (!exited && isAlive(pid!) && Date.now() < until) await sleep(10);
    if (isMounted(d.mountpoint)) lazyUnmount(d.mountpoint);
    if (!exited && isAlive(pid!)) {
      try { process.kill(pid!, 'SIGKILL'); } catch { /* gone */ }
    }
  }

  return {
    pid,
    async stop() {
      await stop();
      untrack();
    },
  };
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim().split('\n').slice(-3).join(' | ') || '(no output)';
  } catch {
    return '(no log)';
  }
}
