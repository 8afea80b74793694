// mount / umount: serve a world's view at a path without a container; umount also clears the
// aliases merged worlds left (merge-views.ts) that no process uses any more.
import { WorldError } from '../core/world-error.js';
import type { World } from '../registry/model.js';
import { mustBeActive, mustFindByName, type WorldsContext } from './context.js';
import { findFuseMount } from '../host/mountinfo.js';
import { mountUsers, type MountUser } from '../host/mount-users.js';
import { aliasMounts, deadMount, liveDaemon, stopAlias, stopDaemon } from './daemon.js';
import { deadView, programsAmong, type DeadView } from './dead-view.js';
import { removeMountDir, removeStackFileAt } from './mount-dirs.js';
import { mountWorldAt } from './merge.js';
import { listProcesses, liveInit } from './processes.js';
import { underStartLock } from './start-lock.js';

export async function mountWorld(ctx: WorldsContext, name: string, at?: string): Promise<string> {
  const reg = ctx.store.read();
  const w = mustFindByName(reg, name);
  if (w.base) throw new WorldError('IS_BASE', `"${w.name}" is the base world: its files are ${ctx.layout.layer(w)} itself`);
  mustBeActive(w);
  // Two mounts at once: the second finds the first's daemon once it holds the lock (exit 4, BUSY).
  return underStartLock(ctx, w.id, async () => {
    const live = liveDaemon(ctx.layout.daemonFile(w.id));
    if (live) {
      throw new WorldError('BUSY', `world "${w.name}" is already mounted at ${live.mountpoint}`, { hint: `worldctl umount ${JSON.stringify(w.name)}` });
    }
    const dead = deadView(ctx, w.id, liveInit(ctx, w.id));
    if (dead && dead.users.length > 0) {
      // A new mount would not be their root, cwd or open files: they would stay broken, and a run would fail.
      throw usedDeadView(ctx, w, dead, 'a new mount would not reach them');
    }
    if (dead) await stopDaemon(ctx.layout.daemonFile(w.id)); // nothing uses the dead view: clear it (lazily unmounted), then mount afresh
    const mountpoint = at ?? ctx.layout.defaultMount(w.id);
    await mountWorldAt(ctx, w, mountpoint);
    return mountpoint;
  });
}

export interface UmountResult {
  /** Mountpoints unmounted: the world's view, then its aliases. */
  readonly unmounted: readonly string[];
  /** Mounts kept because processes use them (the world's own view while its processes run, aliases in use). */
  readonly busy: readonly { readonly mountpoint: string; readonly users: readonly MountUser[] }[];
}

/**
 * Unmount a world's view and its aliases (views of worlds merged into it, still served by their
 * daemons): each alias only when no process uses it (else it stays, and the result names them).
 */
export async function umountWorld(ctx: WorldsContext, name: string): Promise<UmountResult> {
  const reg = ctx.store.read();
  const w = mustFindByName(reg, name);
  const file = ctx.layout.daemonFile(w.id);
  const live = liveDaemon(file);
  const where = live?.mountpoint ?? deadMount(file);
  const aliases = aliasMounts(ctx.layout.aliasesFile(w.id));
  if (!where && aliases.length === 0) throw new WorldError('IO', `world "${w.name}" is not mounted; nothing to unmount`);
  const unmounted: string[] = [];
  const busy: UmountResult['busy'][number][] = [];
  const init = liveInit(ctx, w.id);
  const dead = where && !live ? deadView(ctx, w.id, init) : undefined;
  if (dead && dead.users.length > 0) {
    // Unmounting would leave them broken, and revive without the place to mount the view again.
    throw usedDeadView(ctx, w, dead, 'unmounting it would not end them');
  }
  if (where && init && live) {
    // Its own processes' root: `worldctl stop` ends them and the view together.
    const dev = findFuseMount(where)?.dev;
    busy.push({ mountpoint: where, users: dev === undefined ? [] : mountUsers(dev, new Set([process.pid, live.pid])) });
  } else if (where) {
    await stopDaemon(file);
    removeMountDir(ctx.layout, where);
    unmounted.push(where);
  }
  for (const a of aliases) {
    const dev = findFuseMount(a.mountpoint)?.dev;
    const users = dev === undefined ? [] : mountUsers(dev, new Set([process.pid, a.pid]));
    if (users.length > 0) {
      busy.push({ mountpoint: a.mountpoint, users });
      continue;
    }
    await stopAlias(ctx.layout.aliasesFile(w.id), a);
    removeMountDir(ctx.layout, a.mountpoint);
    if (a.stack) removeStackFileAt(ctx.layout, a.stack);
    unmounted.push(a.mountpoint);
  }
  return { unmounted, busy };
}

/** BUSY: world `w`'s dead view still has users, which `revive` would end alone (`why`: why not this instead). */
function usedDeadView(ctx: WorldsContext, w: World, dead: DeadView, why: string): WorldError {
  const n = programsAmong(dead.users, listProcesses(ctx, w.id)).length;
  return new WorldError('BUSY', `the worldfs daemon of world "${w.name}" died under ${n} process(es) that use its view; ` +
    `${why}: \`worldctl revive ${w.name}\` ends those alone and mounts the view again`, { hint: `worldctl revive ${JSON.stringify(w.name)}` });
}
