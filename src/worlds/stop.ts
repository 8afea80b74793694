// stop: end a world's processes (SIGTERM, SIGKILL after the grace period) and its views — its own
// daemon and the alias daemons of worlds merged into it — keeping its files. The next `run` starts
// a fresh init and view. A world whose daemon died is brought back by revive.ts, which ends only
// the processes that used the dead view.
import { mustFindByName, type WorldsContext } from './context.js';
import { deadMount, liveDaemon, stopAliases, stopDaemon } from './daemon.js';
import { removeViewLeftovers } from './mount-dirs.js';
import { listProcesses, stopProcesses } from './processes.js';

export interface StopResult {
  readonly processes: number;
}

export async function stopWorld(ctx: WorldsContext, name: string): Promise<StopResult> {
  const w = mustFindByName(ctx.store.read(), name);
  const processes = listProcesses(ctx, w.id).length;
  await stopProcesses(ctx, w.id);
  const aliases = await stopAliases(ctx, w.id);
  const file = ctx.layout.daemonFile(w.id);
  const mountpoint = liveDaemon(file)?.mountpoint ?? deadMount(file);
  await stopDaemon(file);
  removeViewLeftovers(ctx.layout, w.id, mountpoint, aliases);
  return { processes };
}
