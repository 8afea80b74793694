// Processes in worlds: each world that runs something has an init (PID 1 of its PID, mount, UTS
// and IPC namespaces; its PID namespace nested in its first parent's), a membership the kernel
// keeps (a cgroup as root, its PID namespaces rootless: src/ns/membership.ts), and its view as
// root. Rootless, the outermost world also gets a user namespace mapping the caller to root.
// run / ps / stop live here.
import { existsSync, readFileSync, rmSync, type BigIntStats } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WorldError } from '../core/world-error.js';
import { isAlive, type ProcessRef } from '../host/process-identity.js';
import { writeFileAtomic } from '../registry/atomic-file.js';
import { findById, type Registry, type World } from '../registry/model.js';
import { RELAY_FD, runDetached, runForeground, SHIM_FD, startInit } from '../ns/launcher.js';
import { initArgv, runArgv } from '../ns/plan.js';
import { readProc } from '../ns/proc.js';
import { mustBeActive, mustFindByName, type WorldsContext } from './context.js';
import { deadMount, fenceDaemon, liveDaemon, stopDaemon, type DaemonRecord } from './daemon.js';
import { deadView, programsAmong } from './dead-view.js';
import { underStartLock } from './start-lock.js';
import { dropRunTicket, registryStat, rootDeviceOf, writeRunTicket } from './run-ticket.js';
import type { ProcessInfo } from './contents.js';
import { silentProgress } from '../progress.js';

/** How long `delete` waits after SIGTERM before SIGKILL (documented in the README). */
export const STOP_GRACE_MS = 5_000;

/** dist/<name>: one of the small C programs scripts/build-native.mjs builds (worldinit, worldshim). */
function nativeBin(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    const f = join(dir, 'dist', name);
    if (existsSync(f)) return f;
  }
  throw new Error(`dist/${name} is missing: run npm ci (or node scripts/build-native.mjs)`);
}

/** Not root: worlds get a user namespace (the caller is root inside it). */
export function rootless(): boolean {
  return process.getuid?.() !== 0;
}

/** The world's live init, if any. */
export function liveInit(ctx: WorldsContext, id: string): ProcessRef | undefined {
  const f = ctx.layout.initFile(id);
  if (!existsSync(f)) return undefined;
  const [pid, start] = readFileSync(f, 'utf8').trim().split(' ');
  const ref = { pid: Number(pid), start: start ?? '' };
  return isAlive(ref) ? ref : undefined;
}

/**
 * The caller's locale (LANG, LANGUAGE, LC_*), which a command in a world gets as on the host: `ls`
 * then shows UTF-8 names as names, not octal escapes. dist/worldrun passes the same (worldrun.c).
 */
export function localeOf(env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && (k === 'LANG' || k === 'LANGUAGE' || k.startsWith('LC_'))) out[k] = v;
  return out;
}

/** A hostname from a world name: letters, digits and '-' only, at most 63 characters. */
export function hostnameOf(name: string): string {
  const h = name.normalize('NFKD').replace(/[^A-Za-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return h || 'world';
}

/** Start the world's init (and its first parent's, to nest in) unless it runs already. */
export async function ensureInit(ctx: WorldsContext, reg: Registry, w: World, mountWorld: (w: World) => Promise<string>): Promise<ProcessRef> {
  const live = liveInit(ctx, w.id);
  if (live) return live;
  mustBeActive(w);
  const first = w.parents[0] ? findById(reg, w.parents[0]) : undefined;
  const parentInit = first && !first.base ? await ensureInit(ctx, reg, first, mountWorld) : undefined;
  // Two first runs at once must not start two daemons and two inits: the second waits, then finds them.
  return underStartLock(ctx, w.id, async () => {
    const started = liveInit(ctx, w.id);
    if (started) return started;
    if (deadMount(ctx.layout.daemonFile(w.id))) await stopDaemon(ctx.layout.daemonFile(w.id)); // clear a dead view first
    const root = liveDaemon(ctx.layout.daemonFile(w.id))?.mountpoint ?? await mountWorld(w);
    const bin = nativeBin('worldinit');
    const ref = await startInit(initArgv({
      root, hostname: hostnameOf(w.name), initBin: bin, nestInPid: parentInit?.pid,
      cgroupProcs: ctx.membership.joinFile(w.id), userns: rootless(),
    }), bin, ctx.layout.logFile(w.id));
    ctx.membership.registerInit(w.id, ref);
    writeFileAtomic(ctx.layout.initFile(w.id), `${ref.pid} ${ref.start}\n`);
    return ref;
  });
}

export interface RunRequest {
  readonly command: readonly string[];
  readonly detach: boolean;
  readonly cwd?: string;
  readonly env: Record<string, string>;
}

/** Run a command in a world: the exit code (foreground) or the launcher's pid (detached). */
export async function runInWorld(ctx: WorldsContext, name: string, req: RunRequest, mountWorld: (w: World) => Promise<string>): Promise<number> {
  const registry = registryStat(ctx.store.file); // before the read: a ticket never vouches for a newer file
  const reg = ctx.store.read();
  const w = mustFindByName(reg, name);
  if (w.base) throw new WorldError('IS_BASE', `"${w.name}" is the base world; run commands in a world created from it`);
  mustBeActive(w);
  if (req.command.length === 0) throw new WorldError('BAD_NAME', 'no command given: worldctl run NAME -- CMD ARGS...');
  if (req.cwd !== undefined && !req.cwd.startsWith('/')) throw new WorldError('BAD_NAME', `--cwd ${req.cwd}: expected an absolute path inside the world`);
  mustHaveLiveView(ctx, w);
  const init = await ensureInit(ctx, reg, w, mountWorld);
  // Changes to its ancestors' layers made before this command reach its view first (issue 6).
  const fenced = await fenceDaemon(ctx.layout.logFile(w.id), ctx.layout.daemonFile(w.id));
  const cgroup = ctx.membership.joinFile(w.id);
  const argv = runArgv({
    initPid: init.pid, shimFd: SHIM_FD, world: w.name, cwd: req.cwd, command: req.command,
    cgroupProcs: cgroup, userns: rootless(), relayFd: req.detach ? undefined : RELAY_FD,
  });
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', HOME: '/root', TERM: process.env.TERM ?? 'xterm', ...localeOf(process.env), ...req.env };
  const shim = nativeBin('worldshim');
  if (req.detach) return runDetached(argv, env, shim, ctx.layout.outputLog(w.id));
  if (registry && !rootless()) issueTicket(ctx, w, registry, init, { ...fenced, ...(cgroup !== undefined ? { cgroup } : {}) });
  return runForeground(argv, env, shim);
}

/**
 * Let dist/worldrun run the world's next commands without Node (run-ticket.ts), if its view is
 * live: the daemon and fence directory the fence found (worldrun checks the daemon again), and the
 * cgroup this command joined.
 */
function issueTicket(
  ctx: WorldsContext, w: World, registry: BigIntStats, init: ProcessRef,
  { daemon, fence, cgroup }: { daemon?: DaemonRecord; fence?: string; cgroup?: string },
): void {
  const rootDevice = rootDeviceOf(init.pid);
  if (!daemon || rootDevice === undefined) return dropRunTicket(ctx.layout.home, w.name);
  writeRunTicket(ctx.layout.home, w.name, {
    registry, id: w.id, init, daemon, rootDevice,
    ...(fence !== undefined ? { fence } : {}),
    ...(cgroup !== undefined ? { cgroup } : {}),
  });
}

/**
 * A world whose init runs on a dead view (its daemon died or was killed; a view mounted again
 * since does not change the init's root) has processes whose root answers ENOTCONN: a new command
 * there could not even start. Say so, and the command that brings the world back ending only the
 * processes that use the dead view (revive.ts), rather than kill anything here.
 */
function mustHaveLiveView(ctx: WorldsContext, w: World): void {
  const init = liveInit(ctx, w.id);
  if (!init) return;
  const dead = deadView(ctx, w.id, init);
  if (!dead) return;
  throw new WorldError('IO', `the worldfs daemon serving world "${w.name}" is gone, so the ${programsAmong(dead.users, listProcesses(ctx, w.id)).length} process(es) that use its view ` +
    `(its init among them) get ENOTCONN for every file; \`worldctl revive ${w.name}\` ends those alone and mounts the view again, ` +
    `then \`worldctl run\` works`, { hint: `worldctl revive ${JSON.stringify(w.name)}` });
}

/** The processes of a world: its members inside its PID namespace (or nested in it). */
export function listProcesses(ctx: WorldsContext, id: string): ProcessInfo[] {
  const init = liveInit(ctx, id);
  const level = init ? (readProc(init.pid)?.nspids.length ?? 2) : 2;
  const pids = members(ctx, id, init);
  const out: ProcessInfo[] = [];
  for (const pid of pids) {
    const p = readProc(pid);
    if (!p || p.nspids.length < level) continue; // a launcher still in the host's namespace
    if (isInitLauncher(p.command) || isShim(p.command)) continue; // plumbing, not the world's programs
    out.push({ pid, nspid: p.nspids[level - 1]!, command: p.command, state: p.state });
  }
  return out.sort((a, b) => a.nspid - b.nspid);
}

/** `unshare ... -- .../worldinit ROOT NAME`: plumbing of a nested world, not one of its programs. */
function isInitLauncher(command: string): boolean {
  return command.startsWith('unshare ') && / -- \S*\/worldinit /.test(command);
}

/** `/proc/self/fd/N --self N ...`: the shim nsenter runs, the parent of a command in the world. */
function isShim(command: string): boolean {
  return /^\/proc\/self\/fd\/\d+ --self \d+ /.test(command);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** SIGTERM every process of the world, SIGKILL what is left after `graceMs`, then forget the init. */
export async function stopProcesses(ctx: WorldsContext, id: string, graceMs = STOP_GRACE_MS): Promise<void> {
  const m = ctx.membership;
  const init = liveInit(ctx, id);
  const now = () => members(ctx, id, init && isAlive(init) ? init : undefined);
  const signal = (sig: NodeJS.Signals) => { for (const pid of now()) { try { process.kill(pid, sig); } catch { /* gone */ } } };
  if (now().length > 0) {
    m.thaw(id);
    signal('SIGTERM');
    const start = Date.now();
    const deadline = start + graceMs;
    const name = findById(ctx.store.read(), id)?.name ?? id;
    const task = (ctx.progress ?? silentProgress).begin(`waiting for ${now().length} process(es) of world "${name}" to exit, SIGKILL after`, Math.round(graceMs / 1000), 's');
    try {
      while (now().length > 0 && Date.now() < deadline) {
        await sleep(50);
        task.update(Math.floor((Date.now() - start) / 1000));
      }
    } finally {
      task.end();
    }
    for (let i = 0; i < 100 && now().length > 0; i++) {
      signal('SIGKILL');
      await sleep(50);
    }
  }
  m.release(id);
  rmSync(ctx.layout.initFile(id), { force: true });
}

/** Host pids of the world's processes; the init alone when the membership knows none. */
function members(ctx: WorldsContext, id: string, init: ProcessRef | undefined): number[] {
  const pids = ctx.membership.pids(id);
  if (pids.length > 0 || !init) return pids;
  return ctx.membership.kind === 'pidns' ? [] : [init.pid];
}
