// Merged directory listings (src/core/listing.ts): one table of stacks run against every format in
// WHITEOUT_FORMATS. The listings fed to mergeListings are the raw listings of the directory's branches.
import { describe, expect, it } from 'vitest';
import { mergeListings, type ListedEntry } from '../../../../src/core/listing.js';
import { toViewPath } from '../../../../src/core/paths.js';
import { resolveExisting } from '../../../../src/core/resolve.js';
import { WHITEOUT_FORMATS, type WhiteoutFormat } from '../../../../src/core/whiteout/index.js';
import { buildStack, NotExpressible, type LayerSpec, type MemoryLayers } from '../../../helpers/memory-layers.js';

interface Row {
  readonly title: string;
  /** Top layer first. */
  readonly layers: readonly LayerSpec[];
  readonly dir: string;
  /** The visible names, in any order, each once. */
  readonly names: readonly string[];
}

// Names too long for an aufs `.wh.<name>` marker (252-255 bytes), and multibyte ones around the limit.
const L255 = 'x'.repeat(255);
const L255B = 'y'.repeat(255);
const L252 = 'z'.repeat(252);
const UTF251 = 'a' + 'é'.repeat(125); // 251 bytes: `.wh.` fits
const UTF254 = 'é'.repeat(127); // 254 bytes: it does not

/** Add a row to cover a new case; every format runs it. */
const ROWS: readonly Row[] = [
  { title: 'an empty directory lists nothing', layers: [{ d: 'dir' }, {}], dir: '/d', names: [] },
  { title: 'a name in several layers is listed once', layers: [{ a: 'file', b: 'file' }, { a: 'dir', c: 'file' }, { a: 'file', c: 'fifo' }], dir: '/', names: ['a', 'b', 'c'] },
  { title: 'a whiteout hides the name in the layers below it', layers: [{ a: 'whiteout' }, { a: 'file', b: 'file' }], dir: '/', names: ['b'] },
  { title: 'a whiteout does not hide the name in a layer above it', layers: [{ a: 'file' }, { a: 'whiteout' }, { a: 'file' }], dir: '/', names: ['a'] },
  { title: 'a whiteout in a middle layer hides the name in every layer below it', layers: [{}, { a: 'whiteout' }, { a: 'file' }, { a: 'dir' }], dir: '/', names: [] },
  { title: 'a whiteout with nothing below it is not listed', layers: [{ a: 'whiteout', b: 'file' }, {}], dir: '/', names: ['b'] },
  { title: 'an entry beside its own whiteout in the same layer is listed', layers: [{ a: 'file +whiteout' }, { a: 'file' }], dir: '/', names: ['a'] },
  { title: 'a whiteout in a directory hides the name only in that directory', layers: [{ 'd/a': 'whiteout' }, { a: 'file', 'd/a': 'file', 'd/b': 'file' }], dir: '/d', names: ['b'] },
  { title: 'a whited-out name in one directory is still listed in its parent', layers: [{ 'd/a': 'whiteout' }, { a: 'file', 'd/a': 'file' }], dir: '/', names: ['a', 'd'] },
  { title: 'an opaque directory lists only its own layer and the markers stay hidden', layers: [{ d: 'dir opaque', 'd/a': 'file' }, { 'd/b': 'file' }], dir: '/d', names: ['a'] },
  { title: 'an opaque directory in a middle layer ends the merge below it', layers: [{ 'd/a': 'file' }, { d: 'dir opaque', 'd/b': 'file' }, { 'd/c': 'file' }], dir: '/d', names: ['a', 'b'] },
  { title: 'a redirected directory lists its lower contents from the old path, without its marker', layers: [{ n: 'dir redirect=/o', 'n/a': 'file' }, { 'o/b': 'file', n: 'dir', 'n/c': 'file' }], dir: '/n', names: ['a', 'b'] },
  { title: 'a relative redirect lists the lower contents of the old name', layers: [{ 'd/new': 'dir redirect=old', 'd/new/a': 'file' }, { 'd/old/b': 'file' }], dir: '/d/new', names: ['a', 'b'] },
  { title: 'a character device other than 0/0 is listed', layers: [{ c: 'chardev=1/3' }, {}], dir: '/', names: ['c'] },
  { title: 'whiteouts inside the top copy of a merged directory hide the lower names they name', layers: [{ d: 'dir', 'd/x': 'whiteout', 'd/y': 'file' }, { 'd/x': 'file', 'd/z': 'file' }], dir: '/d', names: ['y', 'z'] },
  { title: 'a whiteout of a 255-byte name hides it, and only it, among other long names', layers: [{ d: 'dir', [`d/${L255}`]: 'whiteout' }, { [`d/${L255}`]: 'file', [`d/${L255B}`]: 'file', [`d/${L252}`]: 'file', 'd/a': 'file' }], dir: '/d', names: [L255B, L252, 'a'] },
  { title: 'a whiteout of a 252-byte name in a middle layer hides it below, not above', layers: [{ [L252]: 'file' }, { [L252]: 'whiteout', [L255]: 'whiteout' }, { [L252]: 'file', [L255]: 'dir' }], dir: '/', names: [L252] },
  { title: 'a 255-byte name beside its own whiteout in the same layer is listed', layers: [{ [L255]: 'file +whiteout' }, { [L255]: 'file' }], dir: '/', names: [L255] },
  { title: 'a 251-byte multibyte name and a 255-byte one are whited out alike', layers: [{ [UTF251]: 'whiteout', [UTF254]: 'whiteout' }, { [UTF251]: 'file', [UTF254]: 'file', b: 'file' }], dir: '/', names: ['b'] },
];

/** Listings of every branch of directory `dir`, top first: what fs/union/dir.ts hands to mergeListings. */
function branchListings(probe: MemoryLayers, format: WhiteoutFormat, dir: string): ListedEntry[][] {
  const node = resolveExisting(toViewPath(dir), probe, format);
  return node.branches.map((b) => probe.list(b.layer, b.rel));
}

function titled<T extends { readonly title: string }>(rows: readonly T[]): (readonly [string, T])[] {
  return rows.map((r) => [r.title, r] as const);
}

const FORMAT_IDS = [...WHITEOUT_FORMATS.keys()];

describe.each(FORMAT_IDS)('mergeListings with %s whiteouts', (id) => {
  const format = WHITEOUT_FORMATS.get(id)!;

  it.for(titled(ROWS))('%s', ([, row], { skip }) => {
    let probe: MemoryLayers;
    try {
      probe = buildStack(format, row.layers);
    } catch (e) {
      if (e instanceof NotExpressible) skip(`${id} cannot express this stack: ${e.message}`);
      throw e;
    }
    const names = mergeListings(branchListings(probe, format, row.dir), format);
    expect([...names].sort()).toEqual([...row.names].sort());
  });

  const NAMES = ['.wh.x', '.wh..wh..opq', '.wh..wh..redir', '.wh..wh.work', '.wh.', 'wh.x', '.whx', 'plain'];

  it.for(NAMES)('the name %s is listed exactly when the format neither reserves it nor reads it as a marker', (name) => {
    const listing: ListedEntry[] = [{ name, kind: 'file', rdev: 0 }];
    const hidden = format.isInternal(name) || format.isReservedName(name) || format.hiddenByMarker(name) !== undefined;
    expect(mergeListings([listing], format)).toEqual(hidden ? [] : [name]);
  });

  it('internal names are never listed, in any layer', () => {
    const internal = NAMES.filter((n) => format.isInternal(n));
    const listings = [internal, internal].map((layer) => layer.map((name): ListedEntry => ({ name, kind: 'file', rdev: 0 })));
    expect(mergeListings(listings, format)).toEqual([]);
  });

  it('a character device 0/0 is listed exactly when the format does not read it as a whiteout', () => {
    const c: ListedEntry = { name: 'c', kind: 'chardev', rdev: 0 };
    const lower: ListedEntry = { name: 'c', kind: 'file', rdev: 0 };
    expect(mergeListings([[c], [lower]], format)).toEqual(format.isWhiteout(c) ? [] : ['c']);
  });

  it('names come out in the order the layers list them, top layer first', () => {
    const e = (name: string): ListedEntry => ({ name, kind: 'file', rdev: 0 });
    expect(mergeListings([[e('b'), e('a')], [e('c'), e('a'), e('d')]], format)).toEqual(['b', 'a', 'c', 'd']);
  });

  it('no listings at all merge to nothing', () => {
    expect(mergeListings([], format)).toEqual([]);
  });
});
