// mount / umount: serve a world's view at a path without a container.
import { WorldError } from '../core/world-error.js';
import { mustBeActive, mustFindByName, type WorldsContext } from './context.js';
import { deadMount, liveDaemon, stopDaemon } from './daemon.js';
import { mountWorldAt } from './merge.js';
import { liveInit } from './processes.js';
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
    if (deadMount(ctx.layout.daemonFile(w.id))) await stopDaemon(ctx.layout.daemonFile(w.id)); // bring a dead view back
    const mountpoint = at ?? ctx.layout.defaultMount(w.id);
    await mountWorldAt(ctx, w, mountpoint);
    return mountpoint;
  });
}

export async function umountWorld(ctx: WorldsContext, name: string): Promise<string | undefined> {
  const reg = ctx.store.read();
  const w = mustFindByName(reg, name);
  const file = ctx.layout.daemonFile(w.id);
  const where = liveDaemon(file)?.mountpoint ?? deadMount(file);
  if (!where) throw new WorldError('IO', `world "${w.name}" is not mounted; nothing to unmount`);
  if (liveInit(ctx, w.id) && liveDaemon(file)) {
    throw new WorldError('BUSY', `world "${w.name}" has running processes whose root is this view`, { hint: `worldctl stop ${JSON.stringify(w.name)}` });
  }
  await stopDaemon(file);
  return where;
}
