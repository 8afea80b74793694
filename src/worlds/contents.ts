// list contents: the files a world changed relative to its parents' view, and its processes.
import { diffTopLayer, type Change } from '../host/diff.js';
import type { World } from '../registry/model.js';
import { mustFindByName, type WorldsContext } from './context.js';
import { deadMount, liveDaemon } from './daemon.js';
import { hostStack } from './stack.js';
import { listProcesses } from './processes.js';

export interface ProcessInfo {
  readonly pid: number;
  readonly nspid: number;
  readonly command: string;
  readonly state: string;
}

export interface WorldContents {
  readonly world: World;
  readonly changes: readonly Change[];
  readonly processes: readonly ProcessInfo[];
  readonly mountpoint?: string;
  /** Where the view was mounted when its daemon died (the mount answers ENOTCONN). */
  readonly deadMount?: string;
}

export function worldContents(ctx: WorldsContext, name: string): WorldContents {
  const reg = ctx.store.read();
  const world = mustFindByName(reg, name);
  const changes = world.base ? [] : diffTopLayer(hostStack(reg, world.id, ctx.layout, ctx.lineage));
  const mountpoint = liveDaemon(ctx.layout.daemonFile(world.id))?.mountpoint;
  const dead = mountpoint ? undefined : deadMount(ctx.layout.daemonFile(world.id));
  return {
    world, changes, processes: listProcesses(ctx, world.id), ...(mountpoint ? { mountpoint } : {}), ...(dead ? { deadMount: dead } : {}),
  };
}
