// Executes launch plans (src/ns/plan.ts) with execa: starts a world's init and waits for it to be
// ready, runs commands inside a world in the foreground (terminal passed through, exit code
// returned) or detached.
import { closeSync, openSync } from 'node:fs';
import { execa, type Options } from 'execa';
import { WorldError } from '../core/world-error.js';
import { refOf, type ProcessRef } from '../host/process-identity.js';
import { childrenOf, readProc } from './proc.js';

/** Start a world's init from `argv`; resolves with the init's host pid once it reported ready. */
export async function startInit(argv: readonly string[], initBin: string, log: string): Promise<ProcessRef> {
  const out = openSync(log, 'a');
  const child = execa(argv[0]!, [...argv.slice(1)], {
    detached: true, stdio: ['ignore', out, out, 'pipe'], reject: false, cleanup: false,
  } as Options);
  closeSync(out);
  // The ready line comes from worldinit; unshare keeps the pipe open, so do not wait for its end.
  const ready = await new Promise<boolean>((resolve) => {
    let text = '';
    const pipe = child.stdio[3] as NodeJS.ReadableStream;
    pipe.setEncoding('utf8');
    pipe.on('data', (d: string) => {
      text += d;
      if (text.includes('ready\n')) resolve(true);
    });
    pipe.on('end', () => resolve(text.includes('ready\n')));
    void child.then(() => resolve(text.includes('ready\n')));
  });
  if (!ready) throw new WorldError('IO', `the world's init did not start; see ${log}`);
  const init = findDescendant(child.pid!, (cmd) => cmd.startsWith(initBin));
  child.unref?.();
  (child.stdio[3] as unknown as { destroy(): void }).destroy();
  const ref = init === undefined ? undefined : refOf(init);
  if (!ref) throw new WorldError('IO', `the world's init exited right after starting; see ${log}`);
  return ref;
}

/** The first descendant of `pid` (breadth first) whose command line matches. */
function findDescendant(pid: number, match: (cmd: string) => boolean): number | undefined {
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift()!;
    const info = readProc(p);
    if (info && p !== pid && match(info.command)) return p;
    queue.push(...childrenOf(p));
  }
  return undefined;
}

export interface RunOptions {
  readonly env: Record<string, string>;
  readonly detach: boolean;
  readonly log?: string;
}

/** Run argv in the foreground with the terminal passed through; resolves with its exit code. */
export async function runForeground(argv: readonly string[], env: Record<string, string>): Promise<number> {
  // Ctrl-C goes to the whole foreground process group: the command handles it, we wait for it.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  process.on('SIGQUIT', ignore);
  try {
    const r = await execa(argv[0]!, argv.slice(1), { stdio: 'inherit', env, extendEnv: false, reject: false });
    if (r.signal) return 128 + (osSignal(r.signal) ?? 1);
    return r.exitCode ?? 1;
  } finally {
    process.off('SIGINT', ignore);
    process.off('SIGQUIT', ignore);
  }
}

/** Start argv detached (stdout/stderr to `log`); resolves with the pid of the launcher. */
export function runDetached(argv: readonly string[], env: Record<string, string>, log: string): number {
  const out = openSync(log, 'a');
  const child = execa(argv[0]!, [...argv.slice(1)], {
    detached: true, stdio: ['ignore', out, out], env, extendEnv: false, reject: false, cleanup: false,
  } as Options);
  closeSync(out);
  child.unref?.();
  void child.catch(() => undefined);
  return child.pid!;
}

function osSignal(name: string): number | undefined {
  return (({ SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15, SIGPIPE: 13 }) as Record<string, number>)[name];
}
