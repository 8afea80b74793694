// Executes launch plans (src/ns/plan.ts) with execa: starts a world's init (unshare) and waits for
// it to be ready, runs commands inside a world (nsenter and the shim, src/ns/worldshim.c) in the
// foreground (terminal passed through, signals relayed, exit code returned) or detached. execa is
// imported on first use: worldctl's other commands never pay for loading it.
import { closeSync, openSync } from 'node:fs';
import type { Options } from 'execa';
import { constants } from 'node:os';
import { WorldError } from '../core/world-error.js';
import { refOf, type ProcessRef } from '../host/process-identity.js';
import { childrenOf, readProc } from './proc.js';

const loadExeca = () => import('execa');

/**
 * execa's types accept a file descriptor at fd 3 and above only as the literals 3-9; at run time any
 * number is handed to the child as that fd (execa's "native" stdio item).
 */
type StdioItem = 'ignore' | 'inherit' | 'pipe' | number;
const stdio = (...items: StdioItem[]) => items as unknown as Options['stdio'];

/** Start a world's init from `argv`; resolves with the init's host pid once it reported ready. */
export async function startInit(argv: readonly string[], initBin: string, log: string): Promise<ProcessRef> {
  const { execa } = await loadExeca();
  const out = openSync(log, 'a', 0o600);
  const child = execa(argv[0]!, argv.slice(1), {
    detached: true, stdio: stdio('ignore', out, out, 'pipe'), reject: false, cleanup: false, buffer: false,
  });
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
    void child.then(() => resolve(text.includes('ready\n')));
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

/** The fd on which a foreground shim reads the signals worldctl relays (plan: `relayFd`). */
export const RELAY_FD = 3;
/** The fd on which nsenter holds the shim's binary, exec'd as /proc/self/fd/SHIM_FD (plan: `shimFd`). */
export const SHIM_FD = 4;

/** What worldctl relays to the command in the foreground (as docker run does). */
const RELAYED = ['SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Run argv (a run plan with `relayFd: RELAY_FD`, `shimFd: SHIM_FD`) in the foreground with the
 * terminal passed through; `shim` is the host path of dist/worldshim. Resolves with the exit code
 * (the command's, 128+N when it died of signal N). While it runs, SIGINT, SIGQUIT, SIGTERM and
 * SIGHUP do not end worldctl: each is relayed, as one byte on RELAY_FD, to the shim, which
 * forwards it to the command unless the terminal sent it to the command already.
 */
export async function runForeground(argv: readonly string[], env: Record<string, string>, shim: string): Promise<number> {
  const { execa } = await loadExeca();
  const bin = openShim(shim);
  const child = execa(argv[0]!, argv.slice(1), {
    stdio: stdio('inherit', 'inherit', 'inherit', 'pipe', bin), env, extendEnv: false, reject: false, cleanup: false, buffer: false,
  });
  closeSync(bin);
  const relay = child.stdio[RELAY_FD] as NodeJS.WritableStream & { destroy(): void };
  relay.on('error', () => { /* the shim is gone: its exit is reported below */ });
  const handlers = RELAYED.map((sig) => {
    const h = () => { relay.write(Buffer.of(constants.signals[sig])); };
    process.on(sig, h);
    return [sig, h] as const;
  });
  try {
    const r = await child;
    if (r.signal) return 128 + constants.signals[r.signal];
    if (r.exitCode === undefined) throw new WorldError('IO', `cannot start ${argv[0]}: ${r.shortMessage}`, { cause: r.cause });
    return r.exitCode;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
    relay.destroy();
  }
}

/** Start argv (a run plan with `shimFd: SHIM_FD`) detached, stdout/stderr to `log`; returns the launcher's pid. */
export async function runDetached(argv: readonly string[], env: Record<string, string>, shim: string, log: string): Promise<number> {
  const { execa } = await loadExeca();
  const bin = openShim(shim);
  const out = openSync(log, 'a', 0o600);
  const child = execa(argv[0]!, argv.slice(1), {
    detached: true, stdio: stdio('ignore', out, out, 'ignore', bin), env, extendEnv: false, reject: false, cleanup: false, buffer: false,
  });
  closeSync(out);
  closeSync(bin);
  child.unref();
  void child.catch(() => undefined);
  if (child.pid === undefined) throw new WorldError('IO', `cannot start ${argv[0]}`);
  return child.pid;
}

function openShim(path: string): number {
  try {
    return openSync(path, 'r');
  } catch (e) {
    throw new WorldError('IO', `${path} is missing: run npm ci (or node scripts/build-native.mjs)`, { cause: e });
  }
}
