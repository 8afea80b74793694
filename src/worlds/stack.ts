// A world's layer stack: its own layer, then its ancestors' in linearised order, ending with the
// base. The linearisation is a strategy (src/core/lineage.ts).
import { realpathSync } from 'node:fs';
import type { Lineage } from '../core/lineage.js';
import { isWorldError, WorldError } from '../core/world-error.js';
import { whiteoutFormat } from '../core/whiteout/index.js';
import { HostLayers } from '../host/layer-probe.js';
import { readMounts } from '../host/mountinfo.js';
import { findById, type Registry, type World } from '../registry/model.js';
import type { StoreLayout } from './layout.js';

/** [world, ...ancestors], highest priority first. */
export function lineageOf(reg: Registry, id: string, lineage: Lineage): World[] {
  let ids: string[];
  try {
    ids = lineage.linearise(id, (w) => {
      const world = findById(reg, w);
      if (!world) throw new WorldError('CORRUPT_REGISTRY', `world ${w} is referenced as a parent but does not exist`);
      return world.parents;
    });
  } catch (e) {
    // The strategy speaks ids; the user knows names.
    if (isWorldError(e, 'NO_LINEARISATION')) {
      // An id may be quoted already ("w3"): the quotes go with it, so a name is quoted once.
      const name = (text: string) => text.replace(/"?\b(w\d+)\b"?/g, (all, w: string) => (findById(reg, w) ? `"${findById(reg, w)!.name}"` : all));
      throw new WorldError('NO_LINEARISATION', name(e.message), { cause: e, ...(e.hint !== undefined ? { hint: name(e.hint) } : {}) });
    }
    throw e;
  }
  return ids.map((w) => findById(reg, w)!);
}

/** View paths of the base whose contents a view never shows: kernel filesystems and the store. */
export function prunedPaths(base: string, home: string): string[] {
  const out = ['/proc', '/sys', '/dev'];
  const realBase = safeReal(base);
  const realHome = safeReal(home);
  if (realBase === '/') out.push(realHome);
  else if (realHome.startsWith(realBase + '/')) out.push(realHome.slice(realBase.length));
  return out;
}

function safeReal(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/** The real directories of a world's stack, for in-process reading (ls, merge planning). */
export function hostStack(reg: Registry, id: string, layout: StoreLayout, lineage: Lineage): HostLayers {
  const worlds = lineageOf(reg, id, lineage);
  const top = worlds[0]!;
  const base = worlds[worlds.length - 1]!;
  const layers = new HostLayers(worlds.map((w) => layout.layer(w)), whiteoutFormat(top.whiteout), prunedPaths(layout.layer(base), layout.home));
  // Never read through a FUSE mount that happens to lie inside a layer (a world mounted elsewhere).
  layers.setHiddenMounts(readMounts().filter((m) => m.fstype.startsWith('fuse')).map((m) => m.mountpoint));
  return layers;
}
