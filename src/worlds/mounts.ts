// mount / umount: serve a world's view at a path without a container.
import { WorldError } from '../core/world-error.js';
import { mustBeActive, mustFindByName, type WorldsContext } from './context.js';
import { deadMount, liveDaemon, stopDaemon } from './daemon.js';
import { deadView, programsAmong } from './dead-view.js';
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
      throw new WorldError('BUSY', `the worldfs daemon of world "${w.name}" died under ${programsAmong(dead.users, listProcesses(ctx, w.id)).length} process(es) that use its view; ` +
        `a new mount would not reach them: \`worldctl revive ${w.name}\` ends those alone and mounts the view again`, { hint: `worldctl revive ${JSON.stringify(w.name)}` });
    }
    if (dead) await stopDaemon(ctx.layout.daemonFile(w.id)); // nothing uses the dead view: clear it (lazily unmounted), then mount afresh
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
