// Starting a daemon that reports readiness on fd 3 with one line, "ready [PID]" or "error <why>"
// (the worldfs protocol, WORLDFS_READY_FD; PID: the daemon's own, which a keeper in between makes
// another process than the one spawned). Shared by `worldfs` without -f and by worldctl's mounts.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

export type ReadyOutcome =
  | { readonly ready: true; readonly child: ChildProcess; readonly pid: number }
  | { readonly ready: false; readonly error?: string };

/**
 * Spawn `cmd` detached (stdout and stderr to `out`), wait for its ready line, then let it go
 * (unref, pipe closed). `error` is the daemon's own reason when it gave one.
 */
export function spawnWithReadyFd(cmd: string, args: readonly string[], out: number | 'ignore'): Promise<ReadyOutcome> {
  const child = spawn(cmd, [...args], {
    detached: true,
    stdio: ['ignore', out, out, 'pipe'],
    env: { ...process.env, WORLDFS_READY_FD: '3' },
  });
  return new Promise((resolve) => {
    let text = '';
    const pipe = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
    pipe.setEncoding('utf8');
    pipe.on('data', (d: string) => { text += d; });
    pipe.on('end', () => {
      const line = text.trim();
      const ready = /^ready(?: (\d+))?$/.exec(line);
      if (ready) {
        child.unref();
        pipe.destroy();
        return resolve({ ready: true, child, pid: ready[1] !== undefined ? Number(ready[1]) : child.pid! });
      }
      resolve({ ready: false, ...(line.startsWith('error ') ? { error: line.slice(6) } : {}) });
    });
  });
}

/**
 * spawnWithReadyFd of the daemon command line `argv`, run by `keeper` (dist/worldkeep, which holds
 * the daemon's FUSE connection and starts it again should it die) when one is given and built;
 * otherwise the daemon alone.
 */
export function spawnKeptWithReadyFd(keeper: string | undefined, argv: readonly string[], out: number | 'ignore'): Promise<ReadyOutcome> {
  return keeper !== undefined && existsSync(keeper) ? spawnWithReadyFd(keeper, argv, out) : spawnWithReadyFd(argv[0]!, argv.slice(1), out);
}
