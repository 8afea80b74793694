// Executes launch plans (src/ns/plan.ts) with node:child_process: starts a world's init and waits
// for it to be ready, runs commands inside a world in the foreground (terminal passed through,
// signals relayed, exit code returned) or detached. (execa was dropped: loading it cost worldctl
// ~0.1 s at every start, for nothing spawn does not do here.)
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { constants } from 'node:os';
import { WorldError } from '../core/world-error.js';
import { refOf, type ProcessRef } from '../host/process-identity.js';
import { childrenOf, readProc } from './proc.js';

/** Start a world's init from `argv`; resolves with the init's host pid once it reported ready. */
export async function startInit(argv: readonly string[], initBin: string, log: string): Promise<ProcessRef> {
  const out = openSync(log, 'a');
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, out, 'pipe'] });
  closeSync(out);
  // The ready line comes from worldinit; unshare keeps the pipe open, so do not wait for its end.
  const pipe = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void };
  const ready = await new Promise<boolean>((resolve) => {
    let text = '';
    pipe.setEncoding('utf8');
    pipe.on('data', (d: string) => {
      text += d;
      if (text.includes('ready\n')) resolve(true);
    });
    pipe.on('end', () => resolve(text.includes('ready\n')));
    child.on('error', () => resolve(false));
    child.on('exit', () => resolve(text.includes('ready\n')));
  });
  if (!ready) throw new WorldError('IO', `the world's init did not start; see ${log}`);
  const init = findDescendant(child.pid!, (cmd) => cmd.startsWith(initBin));
  child.unref();
  pipe.destroy();
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

/** The fd on which a foreground worldenter reads the signals worldctl relays (plan: `relay`). */
export const RELAY_FD = 3;

/** What worldctl relays to the command in the foreground (as docker run does). */
const RELAYED = ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Run argv (a worldenter plan with `relay: RELAY_FD`) in the foreground with the terminal passed
 * through; resolves with its exit code (128+N when it died of signal N). While it runs, SIGINT,
 * SIGQUIT, SIGTERM and SIGHUP do not end worldctl: each is relayed, as one byte on RELAY_FD, to
 * worldenter, which forwards it to the command unless the terminal sent it to the command already.
 */
export async function runForeground(argv: readonly string[], env: Record<string, string>): Promise<number> {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['inherit', 'inherit', 'inherit', 'pipe'], env });
  const relay = child.stdio[RELAY_FD] as NodeJS.WritableStream & { destroy(): void };
  relay.on('error', () => { /* worldenter is gone: its exit is reported below */ });
  const handlers = RELAYED.map((sig) => {
    const h = () => { relay.write(Buffer.of(constants.signals[sig])); };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    return await new Promise<number>((resolve, reject) => {
      child.on('error', (e) => reject(new WorldError('IO', `cannot start ${argv[0]}: ${e.message}`, { cause: e })));
      child.on('exit', (code, signal) => resolve(signal ? 128 + (constants.signals[signal] ?? 0) : code ?? 1));
    });
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    relay.destroy();
  }
}

/** Start argv detached (stdout/stderr to `log`); resolves with the pid of the launcher. */
export function runDetached(argv: readonly string[], env: Record<string, string>, log: string): number {
  const out = openSync(log, 'a');
  const child = spawn(argv[0]!, argv.slice(1), { detached: true, stdio: ['ignore', out, out], env });
  closeSync(out);
  child.on('error', () => undefined);
  child.unref();
  if (child.pid === undefined) throw new WorldError('IO', `cannot start ${argv[0]}`);
  return child.pid;
}
