// create: a new world over one or several parents. Instant: it makes two empty directories and
// one registry entry, whatever the size of the parents.
import { mkdirSync } from 'node:fs';
import { validateWorldName } from '../core/names.js';
import { WorldError } from '../core/world-error.js';
import { addWorld, findByName, nextWorldId, type World } from '../registry/model.js';
import { StoreLayout } from './layout.js';
import { ensurePrivateStore } from './private-store.js';
import { lineageOf } from './stack.js';
import { mustBeActive, mustFindByName, type WorldsContext } from './context.js';

/**
 * Options of a new world: `nosuid` mounts its view nosuid,nodev (a parent's nosuid is inherited);
 * `open`: who opens its files, the kernel itself (the default: no request per open) or its daemon
 * (every open a request, file data by passthrough: for worlds that write much). Not inherited.
 */
export interface CreateOptions {
  readonly nosuid?: boolean;
  readonly open?: 'daemon' | 'kernel';
  /** Its daemon's node budget (worldfs nodes=; fs/README.md, "The node budget"). Not inherited. */
  readonly nodes?: number;
}

export function createWorld(ctx: WorldsContext, rawName: string, parentNames: readonly string[], opts: CreateOptions = {}): World {
  const name = validateWorldName(rawName);
  return ctx.store.update((reg) => {
    if (findByName(reg, name)) throw new WorldError('EXISTS', `a world named "${name}" already exists; choose another name`);
    const base = reg.worlds.find((w) => w.base)!;
    const parents = parentNames.length > 0 ? parentNames.map((p) => mustFindByName(reg, p)) : [base];
    for (const p of parents) mustBeActive(p);
    const id = nextWorldId(reg);
    const world: World = {
      id, name, parents: parents.map((p) => p.id), created: new Date().toISOString(), state: 'active',
      whiteout: parents[0]!.whiteout, layer: StoreLayout.layerRel(id),
      ...(opts.nosuid || parents.some((p) => p.nosuid) ? { nosuid: true } : {}),
      ...(opts.open === 'daemon' ? { openByDaemon: true } : {}),
      ...(opts.nodes !== undefined ? { maxNodes: opts.nodes } : {}),
    };
    const next = addWorld(reg, world);
    lineageOf(next, id, ctx.lineage); // refuses parents with no consistent order
    ensurePrivateStore(ctx.layout.home); // stores made before the store was private get tightened
    mkdirSync(ctx.layout.layer(world), { recursive: true, mode: 0o755 });
    mkdirSync(ctx.layout.work(id), { recursive: true, mode: 0o700 });
    return { registry: next, result: world };
  });
}
