import { describe, expect, it } from 'vitest';
import { decodeRegistry, encodeRegistry } from '../../../src/registry/codec.js';
import { addWorld, initialRegistry, nextWorldId, type Registry, type World } from '../../../src/registry/model.js';
import { WorldError } from '../../../src/core/world-error.js';

const CREATED = '2026-11-26T12:00:00.000Z';

function world(id: string, name: string, parents: string[], extra: Partial<World> = {}): World {
  return { id, name, parents, created: CREATED, state: 'active', whiteout: 'aufs', layer: `worlds/${id}/layer`, ...extra };
}

function registryOf(...names: string[]): Registry {
  let reg = initialRegistry({ name: 'base', created: CREATED, whiteout: 'aufs', layer: '/' });
  for (const name of names) reg = addWorld(reg, world(nextWorldId(reg), name, ['w0']));
  return reg;
}

/** The canonical text of the issue 3 diamond: line numbers below refer to it. */
const DIAMOND = `<?xml version="1.0" encoding="UTF-8"?>
<worldos version="1" next-id="5">
  <world id="w0" name="base" created="${CREATED}" state="active" whiteout="aufs" layer="/" base="true"/>
  <world id="w1" name="Parent" created="${CREATED}" state="active" whiteout="aufs" layer="worlds/w1/layer">
    <parent ref="w0"/>
  </world>
  <world id="w2" name="Child1" created="${CREATED}" state="active" whiteout="aufs" layer="worlds/w2/layer">
    <parent ref="w1"/>
  </world>
  <world id="w3" name="Child2" created="${CREATED}" state="merging" whiteout="overlay" layer="worlds/w3/layer">
    <parent ref="w1"/>
  </world>
  <world id="w4" name="Child3" created="${CREATED}" state="active" whiteout="aufs" layer="worlds/w4/layer">
    <parent ref="w2"/>
    <parent ref="w3"/>
  </world>
</worldos>
`;

function corruption(text: string): WorldError {
  try {
    decodeRegistry(text);
  } catch (e) {
    expect(e).toBeInstanceOf(WorldError);
    expect((e as WorldError).code).toBe('CORRUPT_REGISTRY');
    return e as WorldError;
  }
  throw new Error('expected CORRUPT_REGISTRY');
}

describe('decodeRegistry and encodeRegistry', () => {
  it('carry nosuid="true" after layer (and base), and nothing for a world without it', () => {
    let reg = registryOf('plain');
    reg = addWorld(reg, world(nextWorldId(reg), 'locked', ['w0'], { nosuid: true }));
    const text = encodeRegistry(reg);
    expect(text).toContain('layer="worlds/w2/layer" nosuid="true">');
    expect(text).not.toContain('name="plain" created="' + CREATED + '" state="active" whiteout="aufs" layer="worlds/w1/layer" nosuid');
    expect(decodeRegistry(text)).toEqual(reg);
    expect('nosuid' in decodeRegistry(text).worlds[1]!).toBe(false);
  });

  it('carry open="daemon" for a world whose daemon opens its files, and nothing for the default', () => {
    let reg = registryOf('plain');
    reg = addWorld(reg, world(nextWorldId(reg), 'writer', ['w0'], { openByDaemon: true }));
    const text = encodeRegistry(reg);
    expect(text).toContain('layer="worlds/w2/layer" open="daemon">');
    expect(decodeRegistry(text)).toEqual(reg);
    expect('openByDaemon' in decodeRegistry(text).worlds[1]!).toBe(false);
  });

  it('carry nodes="N" for a world created with --nodes, refusing a value worldfs would not take', () => {
    let reg = registryOf('plain');
    reg = addWorld(reg, world(nextWorldId(reg), 'big', ['w0'], { maxNodes: 500000 }));
    reg = addWorld(reg, world(nextWorldId(reg), 'unbounded', ['w0'], { maxNodes: 0 }));
    const text = encodeRegistry(reg);
    expect(text).toContain('layer="worlds/w2/layer" nodes="500000">');
    expect(text).toContain('layer="worlds/w3/layer" nodes="0">');
    expect(decodeRegistry(text)).toEqual(reg);
    expect('maxNodes' in decodeRegistry(text).worlds[1]!).toBe(false);
    for (const bad of ['12', '1023', '-5', '4096.5', '0x1000', '', String(2 ** 30 + 1)]) {
      const broken = text.replace('nodes="500000"', `nodes="${bad}"`);
      expect(() => decodeRegistry(broken), bad).toThrow(/nodes=.*expected 0 \(no bound\) or a whole number of nodes/);
    }
  });

  it('decode the issue 3 diamond with parents in order and every attribute a string', () => {
    const reg = decodeRegistry(DIAMOND);
    expect(reg.nextId).toBe(5);
    expect(reg.worlds.map((w) => w.name)).toEqual(['base', 'Parent', 'Child1', 'Child2', 'Child3']);
    expect(reg.worlds[0]).toEqual({ id: 'w0', name: 'base', parents: [], created: CREATED, state: 'active', whiteout: 'aufs', layer: '/', base: true });
    expect(reg.worlds[1]!.parents).toEqual(['w0']); // a single <parent> is still an array
    expect(reg.worlds[3]).toMatchObject({ state: 'merging', whiteout: 'overlay' });
    expect(reg.worlds[4]!.parents).toEqual(['w2', 'w3']);
    expect('base' in reg.worlds[1]!).toBe(false);
  });

  it('encode the diamond back to exactly the canonical text', () => {
    expect(encodeRegistry(decodeRegistry(DIAMOND))).toBe(DIAMOND);
  });

  it('produce identical text for equal registries (stable output)', () => {
    expect(encodeRegistry(registryOf('a', 'b'))).toBe(encodeRegistry(registryOf('a', 'b')));
  });

  it.each([
    ['digits with leading zeros', '007'],
    ['a number in exponent form', '1e3'],
    ['a hex-looking number', '0x10'],
    ['a boolean-looking word', 'true'],
    ['null', 'null'],
    ['an ampersand', 'R&D'],
    ['a literal entity spelling', '&amp;'],
    ['a numeric reference spelling', '&#233;'],
    ['angle brackets', '<b>'],
    ['a CDATA terminator', ']]>'],
    ['double quotes', '"quoted"'],
    ['an apostrophe', "it's"],
    ['all XML specials', `&<>"'`],
    ['a comment-like name', '<!--x-->'],
    ['__proto__', '__proto__'],
    ['constructor', 'constructor'],
    ['accented letters', 'café'],
    ['right-to-left text', 'عالم'],
    ['CJK', '世界'],
    ['astral-plane emoji', '😀🚀'],
    ['64 emoji', '😀'.repeat(64)],
  ])('round-trip a name with %s exactly', (_what, name) => {
    const reg = registryOf(name, 'other');
    const text = encodeRegistry(reg);
    expect(decodeRegistry(text)).toEqual(reg);
    expect(encodeRegistry(decodeRegistry(text))).toBe(text);
  });

  it('write non-ASCII characters as themselves, not as references', () => {
    expect(encodeRegistry(registryOf('café😀'))).toContain('name="café😀"');
  });

  it('keep created and whiteout values verbatim as strings', () => {
    const reg = decodeRegistry(DIAMOND.replace('whiteout="overlay"', 'whiteout="007"'));
    expect(reg.worlds[3]!.whiteout).toBe('007');
  });

  it('accept a byte order mark, comments, single quotes and any attribute order', () => {
    const text = '\uFEFF<?xml version="1.0"?>\n<!-- edited by hand -->\n' +
      `<worldos next-id='1' version='1'>\n  <!-- the base -->\n  <world base="true" layer="/" whiteout="aufs" state="active" created="${CREATED}" name="base" id="w0"/>\n</worldos>\n`;
    expect(decodeRegistry(text)).toEqual(registryOf());
  });

  it('refuse to encode a value holding a control character', () => {
    const reg: Registry = { ...registryOf(), worlds: [{ ...registryOf().worlds[0]!, layer: '/a\nb' }] };
    expect(() => encodeRegistry(reg)).toThrow(RangeError);
  });
});

describe('decodeRegistry refuses a corrupt registry, naming the line', () => {
  const lines = DIAMOND.split('\n');
  const edit = (line: number, from: string, to: string): string => {
    expect(lines[line - 1]).toContain(from);
    return lines.map((l, i) => (i === line - 1 ? l.replace(from, to) : l)).join('\n');
  };

  it.each([
    ['an empty file', '', 1, /Start tag expected/],
    ['text that is not XML', 'hello', 1, /malformed XML/],
    ['a file cut off mid-write', DIAMOND.slice(0, DIAMOND.indexOf('<parent ref="w2"')), 14, /the file ends inside <worldos>, <world>, which are never closed; expected complete XML: was the file cut off\?/],
    ['a mismatched closing tag', edit(9, '</world>', '</wrld>'), 9, /Expected closing tag 'world'/],
    ['a repeated attribute', edit(3, 'id="w0"', 'id="w0" id="w9"'), 3, /Attribute 'id' is repeated/],
    ['a missing version', edit(2, ' version="1"', ''), 2, /<worldos> has no version attribute; expected version="1"/],
    ['a newer version', edit(2, 'version="1"', 'version="2"'), 2, /has version="2"; this worldctl reads only version="1"/],
    ['a missing next-id', edit(2, ' next-id="5"', ''), 2, /no next-id attribute/],
    ['a next-id that is not a number', edit(2, 'next-id="5"', 'next-id="five"'), 2, /next-id="five" is not a decimal number/],
    ['a world without created', edit(7, ` created="${CREATED}"`, ''), 7, /<world id="w2"> lacks created="..."/],
    ['a world without id and name', edit(7, 'id="w2" name="Child1" ', ''), 7, /<world> lacks id="...", name="..."/],
    ['an unknown state', edit(10, 'state="merging"', 'state="paused"'), 10, /state="paused"; expected active, merging or deleting/],
    ['base="false"', edit(4, 'layer="worlds/w1/layer"', 'layer="worlds/w1/layer" base="false"'), 4, /base="false"; expected base="true" or no base attribute/],
    ['nosuid="false"', edit(4, 'layer="worlds/w1/layer"', 'layer="worlds/w1/layer" nosuid="false"'), 4, /nosuid="false"; expected nosuid="true" or no nosuid attribute/],
    ['open="kernel"', edit(4, 'layer="worlds/w1/layer"', 'layer="worlds/w1/layer" open="kernel"'), 4, /open="kernel"; expected open="daemon" or no open attribute/],
    ['an unknown attribute', edit(4, 'state="active"', 'state="active" colour="red"'), 4, /unknown attribute colour/],
    ['an unknown element inside a world', edit(5, '<parent ref="w0"/>', '<parent ref="w0"/><child ref="w2"/>'), 5, /contains unknown element <child>/],
    ['an unknown element at the top', edit(3, '<world id="w0"', '<note/><world id="w0"'), 3, /<worldos> contains unknown element <note>/],
    ['text inside a world', edit(9, '</world>', 'stray</world>'), 7, /contains text "stray"/],
    ['a parent without ref', edit(15, 'ref="w3"', ''), 15, /<parent> of <world id="w4"> has no ref attribute/],
    ['a parent with another attribute', edit(15, 'ref="w3"', 'ref="w3" weight="2"'), 15, /unknown attribute weight/],
    ['a parent ref to a missing world', edit(15, 'ref="w3"', 'ref="w9"'), 15, /world w4 \("Child3"\): parent ref "w9" names no world/],
    ['a duplicate name', edit(10, 'name="Child2"', 'name="Child1"'), 10, /name "Child1" is also used by w2/],
    ['a duplicate id', edit(10, 'id="w3"', 'id="w2"'), 10, /id w2 is also used by world #3/],
    ['an id not below next-id', edit(2, 'next-id="5"', 'next-id="4"'), 13, /id w4 is not below next-id 4/],
    // the cycle is reported at the ref that closes it when walking from the top: w2's ref to w1
    ['a cycle of parents', edit(5, 'ref="w0"', 'ref="w4"'), 8, /worlds w1 → w4 → w2 → w1 form a cycle/],
    ['no base world', edit(3, ' base="true"', ''), 2, /no world is marked base="true".*; line 3: .*has no parents but is not the base world/],
    ['an invalid name', edit(7, 'name="Child1"', 'name="Child 1"'), 7, /contains a space/],
    ['a non-base layer outside the store', edit(7, 'layer="worlds/w2/layer"', 'layer="../../etc"'), 7, /not a plain relative path/],
    ['a created date that is not ISO 8601', edit(7, CREATED, 'last tuesday'), 7, /not an ISO 8601 date-time/],
    ['a different root element', DIAMOND.replace(/worldos/g, 'worlds'), 2, /unexpected root element <worlds>/],
    ['a second root element', `${DIAMOND}<extra/>\n`, 18, /unexpected root element <extra>/],
    ['a DOCTYPE', DIAMOND.replace('<worldos', '<!DOCTYPE worldos>\n<worldos'), 2, /a DOCTYPE declaration; the registry has none/],
    ['a numeric character reference', edit(7, 'Child1', 'Caf&#233;'), 7, /numeric character reference &#233; is not supported/],
    ['an undefined entity', edit(7, 'Child1', 'A&nbsp;B'), 7, /entity reference &nbsp; is not one of &amp;/],
    ['a bare ampersand', edit(7, 'Child1', 'R&D'), 7, /a bare "&" \(in "&D"\); write "&" as &amp;/],
  ])('reports %s', (_what, text, line, message) => {
    const e = corruption(text);
    expect(e.message).toMatch(message);
    expect(e.message).toMatch(new RegExp(`^registry is corrupt: line ${line}: `));
    expect(e.hint).toMatch(/does not rewrite a corrupt registry/);
  });

  it('lists every problem, ordered by line', () => {
    const text = DIAMOND.replace('state="merging"', 'state="paused"').replace('version="1"', 'version="1" x="y"');
    const e = corruption(text);
    expect(e.message).toMatch(/^registry is corrupt: line 2: .*unknown attribute x.*; line 10: .*state="paused"/);
  });

  it('reports the line of the second element when names are equal, even with escaped text', () => {
    const text = DIAMOND.replace('name="Child1"', 'name="a&amp;b"').replace('name="Child2"', 'name="a&amp;b"');
    expect(corruption(text).message).toMatch(/line 10: .*name "a&b" is also used by w2/);
  });
});
