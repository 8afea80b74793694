// The world graph as data: a Registry of Worlds linked by parent ids. Pure and immutable: every
// helper returns a new Registry. Serialised by codec.ts, persisted by store.ts.

import { validateWorldName } from '../core/names.js';
import { WorldError } from '../core/world-error.js';
import { shapeProblems } from './consistency.js';

export { checkConsistency, shapeProblems, isWorldState, WORLD_STATES, type Inconsistency } from './consistency.js';

export type WorldState = 'active' | 'merging' | 'deleting';

export interface World {
  readonly id: string;                  // "w<n>", never reused (see Registry.nextId)
  readonly name: string;                // valid per validateWorldName, NFC
  readonly parents: readonly string[];  // parent ids, highest priority first
  readonly created: string;             // ISO 8601
  readonly state: WorldState;
  readonly whiteout: string;            // whiteout format id of the world's layer
  readonly layer: string;               // layer dir: absolute for the base, relative to the store home otherwise
  readonly base?: boolean;              // the one world with no parents
  readonly nosuid?: boolean;            // its view is mounted nosuid,nodev (create --nosuid; children inherit it)
  readonly openByDaemon?: boolean;      // its daemon opens files (create --open daemon: passthrough), not the kernel
  readonly maxNodes?: number;           // its daemon's node budget (create --nodes: worldfs nodes=); absent: worldfs's default
}

export interface Registry {
  readonly version: 1;
  readonly worlds: readonly World[];
  readonly nextId: number;              // the next world gets id `w${nextId}`
}

/** A registry holding only the base world `w0`. */
export function initialRegistry(base: { name: string; created: string; whiteout: string; layer: string }): Registry {
  const world: World = { id: 'w0', name: base.name, parents: [], created: base.created, state: 'active',
    whiteout: base.whiteout, layer: base.layer, base: true };
  assertShape(world);
  return { version: 1, worlds: [world], nextId: 1 };
}

/** The id the next added world should take. */
export function nextWorldId(reg: Registry): string {
  return `w${reg.nextId}`;
}

/** The world called `name` (compared after NFC normalisation), if any. */
export function findByName(reg: Registry, name: string): World | undefined {
  const nfc = name.normalize('NFC');
  return reg.worlds.find((w) => w.name === nfc);
}

/** The world with id `id`, if any. */
export function findById(reg: Registry, id: string): World | undefined {
  return reg.worlds.find((w) => w.id === id);
}

/** The worlds that list `id` as a parent, in registry order. */
export function children(reg: Registry, id: string): World[] {
  return reg.worlds.filter((w) => w.parents.includes(id));
}

/**
 * Every ancestor of `id`, each once, nearest first (breadth-first, parents in their order).
 * Throws NO_SUCH_WORLD when `id` is unknown. Terminates even on a registry with a cycle.
 */
export function ancestorsOf(reg: Registry, id: string): World[] {
  const start = mustFind(reg, id);
  const seen = new Set<string>([start.id]);
  const out: World[] = [];
  for (let queue = [...start.parents]; queue.length > 0;) {
    const next: string[] = [];
    for (const p of queue) {
      if (seen.has(p)) continue;
      seen.add(p);
      const w = findById(reg, p);
      if (!w) continue; // a dangling ref: checkConsistency reports it
      out.push(w);
      next.push(...w.parents);
    }
    queue = next;
  }
  return out;
}

/** True when `ancestorId` is a strict ancestor of `id` (a world is not its own ancestor). */
export function isAncestor(reg: Registry, ancestorId: string, id: string): boolean {
  return ancestorsOf(reg, id).some((w) => w.id === ancestorId);
}

/**
 * A registry with `world` added. Refuses a taken id or name (EXISTS), an unknown parent
 * (NO_SUCH_WORLD), a repeated parent (NO_LINEARISATION), a second base or a parentless non-base
 * (IS_BASE); malformed fields are a caller's bug (RangeError). Advances nextId past the id.
 */
export function addWorld(reg: Registry, world: World): Registry {
  assertShape(world);
  if (findById(reg, world.id)) throw new WorldError('EXISTS', `a world with id ${world.id} already exists; expected a fresh id: use nextWorldId()`);
  assertNameFree(reg, world);
  assertParents(reg, world);
  if (world.base && reg.worlds.some((w) => w.base)) {
    throw new WorldError('IS_BASE', `cannot add "${world.name}" as a base world: the registry already has one; give it a parent instead`);
  }
  const n = Number(world.id.slice(1));
  return { ...reg, worlds: [...reg.worlds, world], nextId: Math.max(reg.nextId, n + 1) };
}

/**
 * A registry without world `id`. Refuses an unknown id (NO_SUCH_WORLD), the base (IS_BASE) and a
 * world with children (HAS_CHILDREN, naming them).
 */
export function removeWorld(reg: Registry, id: string): Registry {
  const world = mustFind(reg, id);
  if (world.base) throw new WorldError('IS_BASE', `"${world.name}" is the base world; it cannot be deleted`);
  const kids = children(reg, id);
  if (kids.length > 0) {
    throw new WorldError('HAS_CHILDREN', `cannot delete "${world.name}": expected no worlds descending from it, ` +
      `found ${kids.map((k) => `"${k.name}"`).join(', ')}; delete or merge those first`);
  }
  return { ...reg, worlds: reg.worlds.filter((w) => w.id !== id) };
}

/**
 * A registry where the world with `world.id` is replaced by `world`, keeping its position.
 * Same refusals as addWorld, plus IS_BASE when the base flag would change and NO_LINEARISATION
 * when the new parents would make the world its own ancestor.
 */
export function replaceWorld(reg: Registry, world: World): Registry {
  assertShape(world);
  const old = mustFind(reg, world.id);
  if (Boolean(old.base) !== Boolean(world.base)) {
    throw new WorldError('IS_BASE', `cannot change whether "${old.name}" is the base world`);
  }
  assertNameFree(reg, world);
  assertParents(reg, world);
  const loop = world.parents.find((p) => p === world.id || isAncestor(reg, world.id, p));
  if (loop !== undefined) {
    throw new WorldError('NO_LINEARISATION', `"${world.name}" cannot take ${describe(reg, loop)} as a parent: ` +
      `it descends from "${world.name}", which would make a cycle; choose a parent that is not a descendant`);
  }
  return { ...reg, worlds: reg.worlds.map((w) => (w.id === world.id ? world : w)) };
}

function mustFind(reg: Registry, id: string): World {
  const w = findById(reg, id);
  if (!w) throw new WorldError('NO_SUCH_WORLD', `no world has id ${id}; expected one of ${reg.worlds.map((x) => x.id).join(', ')}`);
  return w;
}

function describe(reg: Registry, id: string): string {
  const w = findById(reg, id);
  return w ? `"${w.name}"` : id;
}

function assertShape(world: World): void {
  if (validateWorldName(world.name) !== world.name) {
    throw new WorldError('BAD_NAME', `world name ${JSON.stringify(world.name)} is not in NFC form; pass it through validateWorldName()`);
  }
  const problems = shapeProblems(world);
  if (problems.length > 0) throw new RangeError(`malformed world ${world.id}: ${problems.join('; ')}`);
}

function assertNameFree(reg: Registry, world: World): void {
  const other = findByName(reg, world.name);
  if (other && other.id !== world.id) {
    throw new WorldError('EXISTS', `a world named "${world.name}" already exists (${other.id}); choose another name`);
  }
}

function assertParents(reg: Registry, world: World): void {
  if (!world.base && world.parents.length === 0) {
    throw new WorldError('IS_BASE', `"${world.name}" has no parents, but only the base world may have none; give it a parent`);
  }
  for (const [i, p] of world.parents.entries()) {
    if (!findById(reg, p)) throw new WorldError('NO_SUCH_WORLD', `parent ${p} of "${world.name}" does not exist; expected an existing world id`);
    if (world.parents.indexOf(p) !== i) {
      throw new WorldError('NO_LINEARISATION', `"${world.name}" lists parent ${describe(reg, p)} twice; list each parent once`);
    }
  }
}
