// Consistency of a Registry, as data: each problem points at the world (and parent ref) at fault,
// so the codec can name the line of worlds.xml and the store can refuse to write a bad registry.

import { validateWorldName } from '../core/names.js';
import type { Registry, World } from './model.js';

/** One way a registry is inconsistent, located by index (undefined: the registry as a whole). */
export interface Inconsistency {
  readonly message: string;
  readonly world?: number;   // index in reg.worlds
  readonly parent?: number;  // index in that world's parents
}

const ID = /^w(0|[1-9][0-9]*)$/;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
/** Every WorldState, for parsers. */
export const WORLD_STATES: readonly World['state'][] = ['active', 'merging', 'deleting'];
const STATES: readonly string[] = WORLD_STATES;

/** What is wrong with one world's own fields, whatever the rest of the registry holds. */
export function shapeProblems(w: World): string[] {
  const out: string[] = [];
  if (!ID.test(w.id)) out.push(`id ${JSON.stringify(w.id)} is not of the form w<number>`);
  let valid: string | undefined;
  try {
    valid = validateWorldName(w.name);
  } catch (e) {
    out.push((e as Error).message);
  }
  if (valid !== undefined && valid !== w.name) out.push(`name ${JSON.stringify(w.name)} is not in NFC form`);
  if (!ISO_8601.test(w.created) || Number.isNaN(Date.parse(w.created))) {
    out.push(`created ${JSON.stringify(w.created)} is not an ISO 8601 date-time such as 2026-11-26T12:00:00.000Z`);
  }
  if (!STATES.includes(w.state)) out.push(`state ${JSON.stringify(w.state)} is not one of ${STATES.join(', ')}`);
  if (w.whiteout.length === 0) out.push('whiteout is empty; expected a whiteout format id such as aufs');
  if (w.layer.includes('\0')) out.push('layer contains a NUL character');
  if (w.base) {
    if (!w.layer.startsWith('/')) out.push(`the base world's layer ${JSON.stringify(w.layer)} is not an absolute path`);
    if (w.parents.length > 0) out.push('the base world has parents; expected none');
  } else if (w.layer.startsWith('/') || w.layer.split('/').some((s) => s === '' || s === '.' || s === '..')) {
    out.push(`layer ${JSON.stringify(w.layer)} is not a plain relative path inside the store (no "/" at the start, no "." or ".." parts)`);
  }
  return out;
}

/**
 * Every inconsistency of `reg`: malformed worlds, duplicate ids or names, ids not below nextId,
 * parent refs to missing worlds, to themselves or repeated, cycles, and anything but exactly one
 * base world (the only world without parents). Empty when the registry is consistent.
 */
export function checkConsistency(reg: Registry): Inconsistency[] {
  const out: Inconsistency[] = [];
  if (reg.version !== 1) out.push({ message: `version ${String(reg.version)} is not 1` });
  if (!Number.isSafeInteger(reg.nextId) || reg.nextId < 0) {
    out.push({ message: `next-id ${String(reg.nextId)} is not a non-negative integer` });
  }
  const byId = new Map<string, number>();
  const byName = new Map<string, number>();
  let base: number | undefined;
  reg.worlds.forEach((w, i) => {
    const at = (message: string): void => void out.push({ message: `world ${w.id} (${JSON.stringify(w.name)}): ${message}`, world: i });
    for (const p of shapeProblems(w)) at(p);
    const sameId = byId.get(w.id);
    if (sameId !== undefined) at(`id ${w.id} is also used by world #${sameId + 1}; expected unique ids`);
    else byId.set(w.id, i);
    const sameName = byName.get(w.name);
    if (sameName !== undefined) at(`name ${JSON.stringify(w.name)} is also used by ${reg.worlds[sameName]!.id}; expected unique names`);
    else byName.set(w.name, i);
    const n = ID.exec(w.id);
    if (n && Number(n[1]) >= reg.nextId) at(`id ${w.id} is not below next-id ${reg.nextId}, so a new world could reuse it`);
    if (w.base) {
      if (base !== undefined) at(`is a second base world (the first is ${reg.worlds[base]!.id}); expected exactly one`);
      else base = i;
    } else if (w.parents.length === 0) {
      at('has no parents but is not the base world; expected every world but the base to have a parent');
    }
  });
  if (base === undefined) out.push({ message: 'no world is marked base="true"; expected exactly one base world' });
  reg.worlds.forEach((w, i) => {
    w.parents.forEach((p, j) => {
      const at = (message: string): void =>
        void out.push({ message: `world ${w.id} (${JSON.stringify(w.name)}): parent ref ${JSON.stringify(p)} ${message}`, world: i, parent: j });
      if (p === w.id) at('is the world itself');
      else if (!byId.has(p)) at('names no world in the registry');
      else if (w.parents.indexOf(p) !== j) at('is listed twice; expected each parent once');
    });
  });
  out.push(...cycles(reg, byId));
  return out;
}

/** One inconsistency per cycle of length 2 or more (self-refs are reported above). */
function cycles(reg: Registry, byId: ReadonlyMap<string, number>): Inconsistency[] {
  const out: Inconsistency[] = [];
  const state = new Map<number, 'open' | 'done'>();
  for (let root = 0; root < reg.worlds.length; root++) {
    if (state.has(root)) continue;
    const stack: { i: number; next: number }[] = [{ i: root, next: 0 }];
    state.set(root, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const parents = reg.worlds[top.i]!.parents;
      if (top.next === parents.length) {
        state.set(top.i, 'done');
        stack.pop();
        continue;
      }
      const p = byId.get(parents[top.next++]!);
      if (p === undefined || p === top.i) continue;
      if (state.get(p) === 'open') {
        const ring = stack.slice(stack.findIndex((f) => f.i === p)).map((f) => reg.worlds[f.i]!.id);
        out.push({ message: `worlds ${[...ring, ring[0]].join(' → ')} form a cycle of parents; expected every world to descend from the base`, world: top.i, parent: top.next - 1 });
      } else if (!state.has(p)) {
        state.set(p, 'open');
        stack.push({ i: p, next: 0 });
      }
    }
  }
  return out;
}

/** Type guard used by parsers: is `s` a WorldState? */
export function isWorldState(s: string): s is World['state'] {
  return STATES.includes(s);
}
