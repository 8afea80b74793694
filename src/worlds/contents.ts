// list contents: the files a world changed relative to its parents' view, and its processes.
import { diffTopLayer, type Change } from '../host/diff.js';
import type { World } from '../registry/model.js';
import { mustFindByName, type WorldsContext } from './context.js';
import { liveDaemon } from './daemon.js';
import { deadView, programsAmong, type ViewUser } from './dead-view.js';
import { hostStack } from './stack.js';
import { listProcesses, liveInit } from './processes.js';

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
  /** Processes whose root, cwd, open or mapped files are on a dead view (dead-view.ts); absent when the view is alive. */
  readonly deadViewUsers?: readonly ViewUser[];
}

export function worldContents(ctx: WorldsContext, name: string): WorldContents {
  const reg = ctx.store.read();
  const world = mustFindByName(reg, name);
  const changes = world.base ? [] : diffTopLayer(hostStack(reg, world.id, ctx.layout, ctx.lineage));
  const mountpoint = liveDaemon(ctx.layout.daemonFile(world.id))?.mountpoint;
  const dead = world.base ? undefined : deadView(ctx, world.id, liveInit(ctx, world.id));
  const processes = listProcesses(ctx, world.id);
  return {
    world, changes, processes, ...(mountpoint ? { mountpoint } : {}),
    ...(dead?.mountpoint !== undefined ? { deadMount: dead.mountpoint } : {}), ...(dead ? { deadViewUsers: programsAmong(dead.users, processes) } : {}),
  };
}
