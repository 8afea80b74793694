import { describe, expect, it } from 'vitest';
import {
  addWorld, ancestorsOf, checkConsistency, children, findById, findByName, initialRegistry, isAncestor,
  nextWorldId, removeWorld, replaceWorld, type Registry, type World,
} from '../../../src/registry/model.js';
import { WorldError } from '../../../src/core/world-error.js';

const CREATED = '2026-11-26T12:00:00.000Z';

function world(id: string, name: string, parents: string[], extra: Partial<World> = {}): World {
  return { id, name, parents, created: CREATED, state: 'active', whiteout: 'aufs', layer: `worlds/${id}/layer`, ...extra };
}

/** base <- Parent; Child1, Child2 from Parent; Child3 from [Child1, Child2]. */
function diamond(): Registry {
  let reg = initialRegistry({ name: 'base', created: CREATED, whiteout: 'aufs', layer: '/' });
  reg = addWorld(reg, world(nextWorldId(reg), 'Parent', ['w0']));
  reg = addWorld(reg, world(nextWorldId(reg), 'Child1', ['w1']));
  reg = addWorld(reg, world(nextWorldId(reg), 'Child2', ['w1']));
  return addWorld(reg, world(nextWorldId(reg), 'Child3', ['w2', 'w3']));
}

function failure(fn: () => unknown): WorldError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WorldError);
    return e as WorldError;
  }
  throw new Error('expected a WorldError');
}

describe('initialRegistry', () => {
  it('holds only the base world w0 and hands out w1 next', () => {
    const reg = initialRegistry({ name: 'base', created: CREATED, whiteout: 'aufs', layer: '/' });
    expect(reg.worlds).toEqual([{ id: 'w0', name: 'base', parents: [], created: CREATED, state: 'active', whiteout: 'aufs', layer: '/', base: true }]);
    expect(nextWorldId(reg)).toBe('w1');
    expect(checkConsistency(reg)).toEqual([]);
  });
});

describe('lookups', () => {
  it('finds worlds by name and by id, and answers undefined for unknown ones', () => {
    const reg = diamond();
    expect(findByName(reg, 'Child2')?.id).toBe('w3');
    expect(findById(reg, 'w3')?.name).toBe('Child2');
    expect(findByName(reg, 'nope')).toBeUndefined();
    expect(findById(reg, 'w99')).toBeUndefined();
  });

  it('finds a name typed in decomposed form (NFD) as its stored NFC form', () => {
    const reg = addWorld(diamond(), world('w5', 'café', ['w0']));
    expect(findByName(reg, 'cafe\u0301')?.id).toBe('w5');
  });

  it('lists the children of a world in registry order', () => {
    expect(children(diamond(), 'w1').map((w) => w.name)).toEqual(['Child1', 'Child2']);
    expect(children(diamond(), 'w4')).toEqual([]);
  });

  it('lists every ancestor once, nearest first', () => {
    expect(ancestorsOf(diamond(), 'w4').map((w) => w.name)).toEqual(['Child1', 'Child2', 'Parent', 'base']);
    expect(ancestorsOf(diamond(), 'w0')).toEqual([]);
  });

  it('refuses the ancestors of an unknown id with NO_SUCH_WORLD', () => {
    expect(failure(() => ancestorsOf(diamond(), 'w9')).code).toBe('NO_SUCH_WORLD');
  });

  it('tells strict ancestors from other worlds', () => {
    const reg = diamond();
    expect(isAncestor(reg, 'w0', 'w4')).toBe(true);
    expect(isAncestor(reg, 'w2', 'w4')).toBe(true);
    expect(isAncestor(reg, 'w2', 'w3')).toBe(false);
    expect(isAncestor(reg, 'w4', 'w0')).toBe(false);
    expect(isAncestor(reg, 'w4', 'w4')).toBe(false);
  });

  it('terminates on a registry whose parents form a cycle', () => {
    const reg: Registry = { version: 1, nextId: 3, worlds: [world('w1', 'a', ['w2']), world('w2', 'b', ['w1'])] };
    expect(ancestorsOf(reg, 'w1').map((w) => w.id)).toEqual(['w2']);
  });
});

describe('addWorld', () => {
  it('returns a new registry and leaves the old one unchanged', () => {
    const before = diamond();
    const snapshot = JSON.stringify(before);
    const after = addWorld(before, world('w5', 'new', ['w4']));
    expect(JSON.stringify(before)).toBe(snapshot);
    expect(after).not.toBe(before);
    expect(after.worlds).toHaveLength(6);
    expect(after.nextId).toBe(6);
  });

  it('advances nextId past the added id and never lowers it', () => {
    const reg = diamond();
    expect(addWorld(reg, world('w9', 'far', ['w0'])).nextId).toBe(10);
    const removed = removeWorld(reg, 'w4');
    expect(removed.nextId).toBe(5);
    expect(nextWorldId(removed)).toBe('w5');
  });

  it.each([
    ['a taken name', world('w5', 'Child1', ['w0']), 'EXISTS', /a world named "Child1" already exists \(w2\)/],
    ['a taken id', world('w2', 'other', ['w0']), 'EXISTS', /id w2 already exists/],
    ['an unknown parent', world('w5', 'x', ['w42']), 'NO_SUCH_WORLD', /parent w42 of "x" does not exist/],
    ['a repeated parent', world('w5', 'x', ['w1', 'w1']), 'NO_LINEARISATION', /lists parent "Parent" twice/],
    ['a second base world', world('w5', 'x', [], { base: true, layer: '/other' }), 'IS_BASE', /already has one/],
    ['a world without parents', world('w5', 'x', []), 'IS_BASE', /only the base world may have none/],
    ['an invalid name', world('w5', 'a b', ['w0']), 'BAD_NAME', /contains a space/],
    ['a name not in NFC form', world('w5', 'cafe\u0301', ['w0']), 'BAD_NAME', /not in NFC form/],
  ] as const)('refuses %s', (_what, w, code, message) => {
    const e = failure(() => addWorld(diamond(), w));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
  });

  it.each([
    ['an id not of the form w<n>', world('x5', 'x', ['w0'])],
    ['an absolute layer for a non-base world', world('w5', 'x', ['w0'], { layer: '/etc' })],
    ['a layer escaping the store', world('w5', 'x', ['w0'], { layer: 'worlds/../../etc' })],
    ['a created date that is not ISO 8601', world('w5', 'x', ['w0'], { created: 'yesterday' })],
  ])('treats %s as a caller bug (RangeError)', (_what, w) => {
    expect(() => addWorld(diamond(), w)).toThrow(RangeError);
  });
});

describe('removeWorld', () => {
  it('removes a leaf world', () => {
    const reg = removeWorld(diamond(), 'w4');
    expect(reg.worlds.map((w) => w.id)).toEqual(['w0', 'w1', 'w2', 'w3']);
    expect(checkConsistency(reg)).toEqual([]);
  });

  it('refuses a world with children, naming them', () => {
    const e = failure(() => removeWorld(diamond(), 'w1'));
    expect(e.code).toBe('HAS_CHILDREN');
    expect(e.message).toContain('found "Child1", "Child2"');
  });

  it('refuses the base world and unknown ids', () => {
    expect(failure(() => removeWorld(diamond(), 'w0')).code).toBe('IS_BASE');
    expect(failure(() => removeWorld(diamond(), 'w9')).code).toBe('NO_SUCH_WORLD');
  });
});

describe('replaceWorld', () => {
  it('replaces a world in place, keeping its position', () => {
    const reg = replaceWorld(diamond(), { ...findById(diamond(), 'w2')!, state: 'merging', name: 'Renamed' });
    expect(reg.worlds.map((w) => w.name)).toEqual(['base', 'Parent', 'Renamed', 'Child2', 'Child3']);
    expect(findById(reg, 'w2')?.state).toBe('merging');
  });

  it('refuses parents that would make a world its own ancestor', () => {
    const e = failure(() => replaceWorld(diamond(), { ...findById(diamond(), 'w1')!, parents: ['w4'] }));
    expect(e.code).toBe('NO_LINEARISATION');
    expect(e.message).toContain('"Parent" cannot take "Child3" as a parent');
    expect(failure(() => replaceWorld(diamond(), { ...findById(diamond(), 'w1')!, parents: ['w1'] })).code).toBe('NO_LINEARISATION');
  });

  it('refuses a name another world has, an unknown id, and changing the base flag', () => {
    expect(failure(() => replaceWorld(diamond(), { ...findById(diamond(), 'w2')!, name: 'Child2' })).code).toBe('EXISTS');
    expect(failure(() => replaceWorld(diamond(), world('w9', 'x', ['w0']))).code).toBe('NO_SUCH_WORLD');
    expect(failure(() => replaceWorld(diamond(), { ...findById(diamond(), 'w1')!, base: true, parents: [], layer: '/x' })).code).toBe('IS_BASE');
  });
});

describe('checkConsistency', () => {
  const base = world('w0', 'base', [], { base: true, layer: '/' });
  const reg = (worlds: World[], nextId = 10): Registry => ({ version: 1, worlds, nextId });

  it('finds nothing wrong with a registry built by the helpers', () => {
    expect(checkConsistency(diamond())).toEqual([]);
  });

  it.each([
    ['a duplicate id', [base, world('w1', 'a', ['w0']), world('w1', 'b', ['w0'])], 2, undefined, /id w1 is also used by world #2/],
    ['a duplicate name', [base, world('w1', 'a', ['w0']), world('w2', 'a', ['w0'])], 2, undefined, /name "a" is also used by w1/],
    ['a parent ref to a missing id', [base, world('w1', 'a', ['w0', 'w7'])], 1, 1, /parent ref "w7" names no world/],
    ['a world that is its own parent', [base, world('w1', 'a', ['w1'])], 1, 0, /parent ref "w1" is the world itself/],
    ['a repeated parent ref', [base, world('w1', 'a', ['w0', 'w0'])], 1, 1, /parent ref "w0" is listed twice/],
    ['a second base world', [base, world('w1', 'a', [], { base: true, layer: '/a' })], 1, undefined, /second base world \(the first is w0\)/],
    ['a base world with parents', [world('w0', 'base', ['w1'], { base: true, layer: '/' }), world('w1', 'a', ['w0'])], 0, undefined, /the base world has parents/],
    ['a non-base world without parents', [base, world('w1', 'a', [])], 1, undefined, /has no parents but is not the base world/],
    ['an id not below next-id', [base, world('w12', 'a', ['w0'])], 1, undefined, /id w12 is not below next-id 10/],
    ['an unknown state', [base, world('w1', 'a', ['w0'], { state: 'zombie' as World['state'] })], 1, undefined, /state "zombie" is not one of/],
    ['an invalid name', [base, world('w1', '-x', ['w0'])], 1, undefined, /starts with "-"/],
    ['a layer outside the store', [base, world('w1', 'a', ['w0'], { layer: '../x' })], 1, undefined, /not a plain relative path/],
    ['a relative base layer', [world('w0', 'base', [], { base: true, layer: 'x' })], 0, undefined, /base world's layer "x" is not an absolute path/],
  ] as const)('reports %s at the world (and parent ref) at fault', (_what, worlds, at, parent, message) => {
    const problems = checkConsistency(reg([...worlds]));
    const hit = problems.find((p) => message.test(p.message));
    expect(hit, JSON.stringify(problems)).toBeDefined();
    expect(hit!.world).toBe(at);
    expect(hit!.parent).toBe(parent);
  });

  it('reports a registry without a base world as a whole', () => {
    const problems = checkConsistency(reg([world('w1', 'a', ['w2']), world('w2', 'b', ['w1'])]));
    expect(problems.find((p) => /no world is marked base="true"/.test(p.message))?.world).toBeUndefined();
  });

  it('reports a cycle of parents once, naming every world on it', () => {
    const problems = checkConsistency(reg([base, world('w1', 'a', ['w0', 'w3']), world('w2', 'b', ['w1']), world('w3', 'c', ['w2'])]));
    const cycles = problems.filter((p) => /form a cycle/.test(p.message));
    expect(cycles).toHaveLength(1);
    expect(cycles[0]!.message).toMatch(/worlds w1 → w3 → w2 → w1 form a cycle/);
  });

  it('reports a negative or fractional next-id', () => {
    expect(checkConsistency(reg([base], -1)).map((p) => p.message)).toContain('next-id -1 is not a non-negative integer');
    expect(checkConsistency(reg([base], 1.5)).some((p) => /next-id 1.5/.test(p.message))).toBe(true);
  });
});
