// revive: bring back a world whose daemon died, sparing what still works. Only the processes that
// use the dead view (root, cwd, open or mapped files on it: dead-view.ts) are ended; processes
// served by another daemon (a merged world's, through its alias view; a child world's) keep running,
// and so does the init while any of them lives in its PID namespace (its death would kill them all): it is
// retired, and the next `run` starts a new init on the new view. The view is mounted again where it was.
import { rmSync } from 'node:fs';
import { WorldError } from '../core/world-error.js';
import { isAlive, refOf, type ProcessRef } from '../host/process-identity.js';
import { mustBeActive, mustFindByName, type WorldsContext } from './context.js';
import { stopDaemon } from './daemon.js';
import { deadView, programsAmong, type ViewUser } from './dead-view.js';
import { othersInPidNamespaceOf } from '../ns/proc.js';
import { mountWorldAt } from './merge-views.js';
import { liveInit, listProcesses, STOP_GRACE_MS, stopProcesses } from './processes.js';
import { underStartLock } from './start-lock.js';

export interface ReviveResult {
  /** The world's programs ended because they used the dead view (not the init; launchers and shims go unlisted). */
  readonly ended: readonly ViewUser[];
  /** Processes left running: they do not depend on the dead view. */
  readonly spared: number;
  /** Whether the old init was kept for the spared processes (the next run starts a new one). */
  readonly initRetired: boolean;
  /** Where the view is mounted again (undefined: it was not mounted; the next run mounts it). */
  readonly mountpoint?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Revive world `name`; WorldError IO if its view is not dead (nothing to do). */
export async function reviveWorld(ctx: WorldsContext, name: string, graceMs = STOP_GRACE_MS): Promise<ReviveResult> {
  const w = mustFindByName(ctx.store.read(), name);
  mustBeActive(w);
  return underStartLock(ctx, w.id, async () => {
    const init = liveInit(ctx, w.id);
    const dead = deadView(ctx, w.id, init);
    if (!dead) throw new WorldError('IO', `world "${w.name}" has no dead view: its daemon is alive (or it is not mounted); nothing to revive`);
    const victims = dead.users.filter((u) => u.pid !== init?.pid);
    const ended = programsAmong(victims, listProcesses(ctx, w.id));
    await endProcesses(victims.map((v) => v.pid), graceMs);
    let initRetired = false;
    if (init && dead.users.some((u) => u.pid === init.pid)) {
      // Not only the world's own programs: a child world's init lives in this PID namespace too.
      if (othersInPidNamespaceOf(init.pid).length === 0) {
        await stopProcesses(ctx, w.id, graceMs);
      } else {
        // Its PID namespace holds processes that work: it stays (membership keeps it listed and
        // stops it with the world); the world forgets it as its init.
        rmSync(ctx.layout.initFile(w.id), { force: true });
        initRetired = true;
      }
    }
    const spared = listProcesses(ctx, w.id).length;
    const file = ctx.layout.daemonFile(w.id);
    const at = dead.mountpoint;
    if (at !== undefined) {
      await stopDaemon(file); // the dead mount is lazily unmounted: no new mount is stacked on it
      await mountWorldAt(ctx, w, at);
    }
    return { ended, spared, initRetired, ...(at !== undefined ? { mountpoint: at } : {}) };
  });
}

/** SIGTERM `pids`, SIGKILL whatever is left after `graceMs`; waits until they are gone, bounded. */
async function endProcesses(pids: readonly number[], graceMs: number): Promise<void> {
  const refs = pids.map(refOf).filter((r): r is ProcessRef => r !== undefined);
  const left = () => refs.filter((r) => isAlive(r));
  for (const r of left()) { try { process.kill(r.pid, 'SIGTERM'); } catch { /* gone */ } }
  const deadline = Date.now() + graceMs;
  while (left().length > 0 && Date.now() < deadline) await sleep(50);
  for (let i = 0; i < 100 && left().length > 0; i++) {
    for (const r of left()) { try { process.kill(r.pid, 'SIGKILL'); } catch { /* gone */ } }
    await sleep(50);
  }
}
