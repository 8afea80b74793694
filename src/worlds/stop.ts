// stop: end a world's processes (SIGTERM, SIGKILL after the grace period) and its views — its own
// daemon and the alias daemons of worlds merged into it — keeping its files. The next `run` starts
// a fresh init and view. Also how a world whose daemon died is brought back.
import { mustFindByName, type WorldsContext } from './context.js';
import { stopAliases, stopDaemon } from './daemon.js';
import { listProcesses, stopProcesses } from './processes.js';

export interface StopResult {
  readonly processes: number;
}

export async function stopWorld(ctx: WorldsContext, name: string): Promise<StopResult> {
  const w = mustFindByName(ctx.store.read(), name);
  const processes = listProcesses(ctx, w.id).length;
  await stopProcesses(ctx, w.id);
  await stopAliases(ctx, w.id);
  await stopDaemon(ctx.layout.daemonFile(w.id));
  return { processes };
}
