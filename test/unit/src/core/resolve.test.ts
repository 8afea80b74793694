// Resolution across layers (src/core/resolve.ts), as one table of stacks run against every format in
// WHITEOUT_FORMATS. A row is format-neutral: the helper writes its whiteouts and markers the format's way.
import { describe, expect, it } from 'vitest';
import { isFsError, type ErrnoCode } from '../../../../src/core/errors.js';
import { toViewPath } from '../../../../src/core/paths.js';
import {
  isMerged, isUpper, lookupChild, lowerHas, lowerPart, resolve, resolveExisting, rootNode, type ChildLookup, type LayerProbe,
} from '../../../../src/core/resolve.js';
import { TimedLowerCache } from '../../../../src/core/lower-cache.js';
import { WHITEOUT_FORMATS, type EntryKind, type WhiteoutFormat } from '../../../../src/core/whiteout/index.js';
import { buildStack, NotExpressible, withLowerMemo, type LayerSpec, type MemoryLayers } from '../../../helpers/memory-layers.js';

type Outcome =
  | { readonly found: EntryKind; readonly branches: readonly (readonly [number, string])[] }
  | { readonly absent: true; readonly whiteoutAt?: number }
  | { readonly error: ErrnoCode };

interface Row {
  readonly title: string;
  /** Top layer first. */
  readonly layers: readonly LayerSpec[];
  readonly path: string;
  readonly expect: Outcome;
}

const found = (kind: EntryKind, ...branches: (readonly [number, string])[]): Outcome => ({ found: kind, branches });
const absent: Outcome = { absent: true };
const whitedOutAt = (layer: number): Outcome => ({ absent: true, whiteoutAt: layer });
const error = (code: ErrnoCode): Outcome => ({ error: code });

// Names too long for an aufs `.wh.<name>` marker (252-255 bytes).
const L255 = 'x'.repeat(255);
const L252 = 'z'.repeat(252);

/** Add a row to cover a new case; every format runs it. */
const ROWS: readonly Row[] = [
  // The highest layer wins.
  { title: 'the highest layer that has a name wins', layers: [{ a: 'symlink=x' }, { a: 'file' }, { a: 'dir' }], path: '/a', expect: found('symlink', [0, 'a']) },
  { title: 'a name only in a lower layer is found in that layer', layers: [{}, {}, { a: 'fifo' }], path: '/a', expect: found('fifo', [2, 'a']) },
  { title: 'a name in no layer is absent without a whiteout', layers: [{}, { b: 'file' }], path: '/a', expect: absent },
  { title: 'a one-layer stack resolves in its only layer', layers: [{ a: 'file' }], path: '/a', expect: found('file', [0, 'a']) },
  { title: 'a character device other than 0/0 is an ordinary entry', layers: [{ c: 'chardev=1/3' }, { c: 'file' }], path: '/c', expect: found('chardev', [0, 'c']) },
  { title: 'a name inside a merged directory resolves in the layer that holds it', layers: [{ d: 'dir' }, { 'd/f': 'file' }], path: '/d/f', expect: found('file', [1, 'd/f']) },

  // Whiteouts.
  { title: 'a whiteout in the top layer hides the name in every layer below', layers: [{ a: 'whiteout' }, { a: 'file' }, { a: 'file' }], path: '/a', expect: whitedOutAt(0) },
  { title: 'a whiteout in a middle layer hides lower layers but not the layer above it', layers: [{ a: 'socket' }, { a: 'whiteout' }, { a: 'file' }], path: '/a', expect: found('socket', [0, 'a']) },
  { title: 'a whiteout in a middle layer reports the layer that stopped the search', layers: [{}, { a: 'whiteout' }, { a: 'file' }], path: '/a', expect: whitedOutAt(1) },
  { title: 'a whiteout with nothing below it reads as absent', layers: [{ a: 'whiteout' }, {}], path: '/a', expect: whitedOutAt(0) },
  { title: 'a file beside its own whiteout in the same layer stays visible', layers: [{ a: 'file +whiteout' }, { a: 'file' }], path: '/a', expect: found('file', [0, 'a']) },
  { title: 'a directory beside its own whiteout stays visible but does not merge the directories it whites out', layers: [{ d: 'dir +whiteout' }, { d: 'dir', 'd/x': 'file' }], path: '/d', expect: found('dir', [0, 'd']) },
  { title: 'a whiteout in a directory hides the name only in that directory', layers: [{ 'd/a': 'whiteout' }, { a: 'file', 'd/a': 'file' }], path: '/a', expect: found('file', [1, 'a']) },

  // Directories merge down to the first opaque one.
  { title: 'a directory merges with the same-named directories in every layer below', layers: [{ d: 'dir' }, {}, { d: 'dir' }], path: '/d', expect: found('dir', [0, 'd'], [2, 'd']) },
  { title: 'a directory only in lower layers merges those layers', layers: [{}, { d: 'dir' }, { d: 'dir' }], path: '/d', expect: found('dir', [1, 'd'], [2, 'd']) },
  { title: 'merging stops at the first opaque directory, which is included', layers: [{ d: 'dir' }, { d: 'dir opaque' }, { d: 'dir' }], path: '/d', expect: found('dir', [0, 'd'], [1, 'd']) },
  { title: 'an opaque top directory draws on no lower layer', layers: [{ d: 'dir opaque' }, { d: 'dir' }], path: '/d', expect: found('dir', [0, 'd']) },
  { title: 'an opaque directory in the lowest layer is an ordinary directory', layers: [{ d: 'dir' }, { d: 'dir opaque' }], path: '/d', expect: found('dir', [0, 'd'], [1, 'd']) },
  { title: 'a directory below a whiteout is not merged', layers: [{ d: 'dir' }, { d: 'whiteout' }, { d: 'dir' }], path: '/d', expect: found('dir', [0, 'd']) },
  { title: 'the root merges the root of every layer', layers: [{}, {}, {}], path: '/', expect: found('dir', [0, ''], [1, ''], [2, '']) },
  { title: 'an opaque root stops the merge of roots', layers: [{}, { '': 'dir opaque' }, { a: 'file' }], path: '/', expect: found('dir', [0, ''], [1, '']) },
  { title: 'a name only below an opaque root is absent', layers: [{ '': 'dir opaque' }, { a: 'file' }], path: '/a', expect: absent },
  { title: 'a name only below an opaque directory is absent', layers: [{ d: 'dir opaque' }, { 'd/a': 'file' }], path: '/d/a', expect: absent },

  // Type changes between layers.
  { title: 'a non-directory below a directory is hidden, and so is everything under it', layers: [{ d: 'dir' }, { d: 'file' }, { d: 'dir' }], path: '/d', expect: found('dir', [0, 'd']) },
  { title: 'a directory below a non-directory is hidden', layers: [{ d: 'file' }, { d: 'dir' }], path: '/d', expect: found('file', [0, 'd']) },
  { title: 'a directory below a symlink is hidden', layers: [{ d: 'symlink=elsewhere' }, { d: 'dir' }], path: '/d', expect: found('symlink', [0, 'd']) },

  // Redirects.
  { title: 'an absolute redirect continues the directory at its old path in the lower layers', layers: [{ new: 'dir redirect=/old' }, { old: 'dir', 'old/f': 'file', new: 'dir' }], path: '/new', expect: found('dir', [0, 'new'], [1, 'old']) },
  { title: 'an absolute redirect to a nested path merges every lower layer at that path', layers: [{ b: 'dir redirect=/x/y' }, { 'x/y': 'dir' }, {}, { 'x/y': 'dir' }], path: '/b', expect: found('dir', [0, 'b'], [1, 'x/y'], [3, 'x/y']) },
  { title: 'an absolute redirect honours opaque directories in the lower layers', layers: [{ b: 'dir redirect=/x' }, { x: 'dir opaque' }, { x: 'dir' }], path: '/b', expect: found('dir', [0, 'b'], [1, 'x']) },
  { title: 'an absolute redirect honours whiteouts in the lower layers', layers: [{ b: 'dir redirect=/x' }, { x: 'dir' }, { x: 'whiteout' }, { x: 'dir' }], path: '/b', expect: found('dir', [0, 'b'], [1, 'x']) },
  { title: 'an absolute redirect in a lower layer continues below that layer', layers: [{ c: 'dir' }, { c: 'dir redirect=/x' }, { x: 'dir', c: 'dir' }], path: '/c', expect: found('dir', [0, 'c'], [1, 'c'], [2, 'x']) },
  { title: 'an absolute redirect out of a directory that exists only in the top layer still reaches the lower layers', layers: [{ n: 'dir', 'n/x': 'dir redirect=/a/x' }, { 'a/x': 'dir', 'a/x/f': 'file' }], path: '/n/x', expect: found('dir', [0, 'n/x'], [1, 'a/x']) },
  { title: 'an absolute redirect to a path whose parent vanished from the lower layers leaves the top layer only', layers: [{ b: 'dir redirect=/gone/x' }, {}], path: '/b', expect: found('dir', [0, 'b']) },
  { title: 'an absolute redirect through a lower non-directory leaves the top layer only', layers: [{ b: 'dir redirect=/f/x' }, { f: 'file' }], path: '/b', expect: found('dir', [0, 'b']) },
  { title: 'an absolute redirect to a lower non-directory leaves the top layer only', layers: [{ b: 'dir redirect=/f' }, { f: 'file' }], path: '/b', expect: found('dir', [0, 'b']) },
  { title: 'a relative redirect continues the directory under its old name in the same parent', layers: [{ 'd/new': 'dir redirect=old' }, { 'd/old': 'dir', 'd/new': 'dir' }], path: '/d/new', expect: found('dir', [0, 'd/new'], [1, 'd/old']) },
  { title: 'a relative redirect is followed through every lower layer', layers: [{ 'd/new': 'dir redirect=old' }, { 'd/old': 'dir' }, { 'd/old': 'dir' }], path: '/d/new', expect: found('dir', [0, 'd/new'], [1, 'd/old'], [2, 'd/old']) },
  { title: 'after a relative redirect a whiteout of the old name stops the merge', layers: [{ 'd/new': 'dir redirect=old' }, { 'd/old': 'whiteout' }, { 'd/old': 'dir' }], path: '/d/new', expect: found('dir', [0, 'd/new']) },
  { title: 'a redirect is ignored on an opaque directory', layers: [{ b: 'dir opaque redirect=/x' }, { x: 'dir' }], path: '/b', expect: found('dir', [0, 'b']) },

  // Intermediate components.
  { title: 'a missing final component is absent, not an error', layers: [{ d: 'dir' }, {}], path: '/d/nope', expect: absent },
  { title: 'a missing intermediate component fails with ENOENT', layers: [{}, {}], path: '/nope/x', expect: error('ENOENT') },
  { title: 'a whited-out intermediate component fails with ENOENT', layers: [{ d: 'whiteout' }, { 'd/x': 'file' }], path: '/d/x', expect: error('ENOENT') },
  { title: 'a file as an intermediate component fails with ENOTDIR', layers: [{ f: 'file' }, {}], path: '/f/x', expect: error('ENOTDIR') },
  { title: 'a symlink as an intermediate component fails with ENOTDIR (the kernel follows symlinks, not us)', layers: [{ l: 'symlink=d', d: 'dir', 'd/x': 'file' }], path: '/l/x', expect: error('ENOTDIR') },
  { title: 'a file that hides a lower directory fails an intermediate lookup with ENOTDIR', layers: [{ f: 'file' }, { 'f/x': 'file' }], path: '/f/x', expect: error('ENOTDIR') },
  { title: 'a 255-byte name only in a lower layer is found there', layers: [{}, { [L255]: 'file' }], path: '/' + L255, expect: found('file', [1, L255]) },
  { title: 'a whiteout of a 255-byte name hides it', layers: [{ [L255]: 'whiteout' }, { [L255]: 'file' }], path: '/' + L255, expect: whitedOutAt(0) },
  { title: 'a whiteout of a 252-byte name in a middle layer hides the lower copy', layers: [{}, { [`d/${L252}`]: 'whiteout' }, { [`d/${L252}`]: 'file' }], path: `/d/${L252}`, expect: whitedOutAt(1) },
  { title: 'a whiteout of a 255-byte name beside a directory of that name stops its merge', layers: [{ [`${L255}/a`]: 'file', [L255]: 'dir +whiteout' }, { [`${L255}/b`]: 'file' }], path: `/${L255}/b`, expect: absent },
  { title: 'a whiteout of one 255-byte name leaves another visible', layers: [{ [L255]: 'whiteout' }, { [L255]: 'file', [L252]: 'file' }], path: '/' + L252, expect: found('file', [1, L252]) },
];

/** The probe with a lower-layer memo that never expires (lower layers do not change in these rows). */
function withMemo(probe: MemoryLayers): LayerProbe {
  return withLowerMemo(probe, new TimedLowerCache({ ttlMs: Infinity }));
}

function outcome(run: () => ChildLookup): Outcome {
  let r: ChildLookup;
  try {
    r = run();
  } catch (e) {
    if (isFsError(e)) return { error: e.code };
    throw e;
  }
  if (r.kind === 'absent') return r.whiteoutAt === undefined ? absent : whitedOutAt(r.whiteoutAt);
  return { found: r.node.entry.kind, branches: r.node.branches.map((b) => [b.layer, b.rel] as const) };
}

/** Build the stack, or skip the test when the format cannot express it (e.g. entry + in-place whiteout). */
function stackOrSkip(format: WhiteoutFormat, layers: readonly LayerSpec[], skip: (note?: string) => never): MemoryLayers {
  try {
    return buildStack(format, layers);
  } catch (e) {
    if (e instanceof NotExpressible) skip(`${format.id} cannot express this stack: ${e.message}`);
    throw e;
  }
}

/** [title, row] pairs, so test names show the whole sentence ('$title' would quote and cut it). */
function titled<T extends { readonly title: string }>(rows: readonly T[]): (readonly [string, T])[] {
  return rows.map((r) => [r.title, r] as const);
}

const FORMAT_IDS = [...WHITEOUT_FORMATS.keys()];
const fmt = (id: string) => WHITEOUT_FORMATS.get(id)!;

describe.each(FORMAT_IDS)('resolve with %s whiteouts', (id) => {
  const format = fmt(id);

  it.for(titled(ROWS))('%s', ([, row], { skip }) => {
    const probe = stackOrSkip(format, row.layers, skip);
    expect(outcome(() => resolve(toViewPath(row.path), probe, format))).toEqual(row.expect);
  });

  // The same table through the lower-layer memo (src/core/lower-cache.ts): cold, then warm.
  it.for(titled(ROWS))('remembering lower layers: %s', ([, row], { skip }) => {
    const probe = withMemo(stackOrSkip(format, row.layers, skip));
    expect(outcome(() => resolve(toViewPath(row.path), probe, format))).toEqual(row.expect);
    expect(outcome(() => resolve(toViewPath(row.path), probe, format))).toEqual(row.expect);
  });

  it('reports the view path and the top entry of what it finds', () => {
    const probe = buildStack(format, [{ d: 'dir' }, { 'd/f': 'file' }]);
    const r = resolve(toViewPath('/d/f'), probe, format);
    expect(r.kind === 'found' && r.node.path).toBe('/d/f');
    expect(r.kind === 'found' && r.node.entry).toEqual({ kind: 'file', rdev: 0 });
  });

  it('reports the parent directory of an absent name', () => {
    const probe = buildStack(format, [{ d: 'dir' }, { d: 'dir' }]);
    const r = resolve(toViewPath('/d/nope'), probe, format);
    expect(r.kind === 'absent' && r.parent.path).toBe('/d');
    expect(r.kind === 'absent' && r.parent.branches).toEqual([{ layer: 0, rel: 'd' }, { layer: 1, rel: 'd' }]);
  });

  const NAMES = ['.wh.x', '.wh..wh..opq', '.wh..wh..redir', '.wh..wh.work', '.wh.', 'wh.x', '.whx', 'x.wh.', 'plain'];

  it.for(NAMES)('the name %s is absent exactly when the format reserves it or keeps it internal', (name) => {
    const probe = buildStack(format, [{ [name]: 'file' }, { [name]: 'file' }]);
    const hidden = format.isReservedName(name) || format.isInternal(name);
    expect(resolve(toViewPath('/' + name), probe, format).kind).toBe(hidden ? 'absent' : 'found');
    expect(lookupChild(rootNode(probe), name, probe, format).kind).toBe(hidden ? 'absent' : 'found');
    const nested = buildStack(format, [{ [`d/${name}`]: 'dir' }]);
    expect(outcome(() => resolve(toViewPath(`/d/${name}/y`), nested, format))).toEqual(hidden ? error('ENOENT') : absent);
  });

  it('a character device 0/0 reads as a whiteout exactly when the format says so', () => {
    const probe = buildStack(format, [{ c: 'chardev=0/0' }, { c: 'file' }]);
    const expected = format.isWhiteout({ kind: 'chardev', rdev: 0 }) ? whitedOutAt(0) : found('chardev', [0, 'c']);
    expect(outcome(() => resolve(toViewPath('/c'), probe, format))).toEqual(expected);
  });

  it('resolveExisting returns the node of a present name and fails with ENOENT for an absent one', () => {
    const probe = buildStack(format, [{ a: 'whiteout' }, { a: 'file', b: 'file' }]);
    expect(resolveExisting(toViewPath('/b'), probe, format).branches).toEqual([{ layer: 1, rel: 'b' }]);
    expect(() => resolveExisting(toViewPath('/a'), probe, format)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});

interface LowerRow {
  readonly title: string;
  readonly layers: readonly LayerSpec[];
  readonly dir: string;
  readonly name: string;
  readonly lowerHas: boolean;
}

const LOWER_ROWS: readonly LowerRow[] = [
  { title: 'a name only in the top layer is not in a lower layer', layers: [{ a: 'file' }, {}], dir: '/', name: 'a', lowerHas: false },
  { title: 'a name in the top and a lower layer is in a lower layer', layers: [{ a: 'file' }, { a: 'file' }], dir: '/', name: 'a', lowerHas: true },
  { title: 'a name only in a lower layer is in a lower layer', layers: [{}, {}, { a: 'file' }], dir: '/', name: 'a', lowerHas: true },
  { title: 'a name whited out in the top layer is still in a lower layer', layers: [{ a: 'whiteout' }, { a: 'file' }], dir: '/', name: 'a', lowerHas: true },
  { title: 'a name whited out in a middle layer is not in a lower layer', layers: [{ a: 'file' }, { a: 'whiteout' }, { a: 'file' }], dir: '/', name: 'a', lowerHas: false },
  { title: 'nothing is in a lower layer under an opaque top directory', layers: [{ d: 'dir opaque' }, { 'd/a': 'file' }], dir: '/d', name: 'a', lowerHas: false },
  { title: 'nothing is in a lower layer under a top-only directory', layers: [{ d: 'dir' }, { a: 'file' }], dir: '/d', name: 'a', lowerHas: false },
  { title: 'a name under a redirected directory is in a lower layer at the old path', layers: [{ n: 'dir redirect=/o' }, { 'o/a': 'file' }], dir: '/n', name: 'a', lowerHas: true },
];

describe.each(FORMAT_IDS)('lowerHas, isMerged and isUpper with %s whiteouts', (id) => {
  const format = fmt(id);

  it.for(titled(LOWER_ROWS))('%s', ([, row]) => {
    const probe = buildStack(format, row.layers);
    const dir = resolveExisting(toViewPath(row.dir), probe, format);
    expect(lowerHas(dir, row.name, probe, format)).toBe(row.lowerHas);
  });

  it('a reserved or internal name is in a lower layer only when the format shows it', () => {
    const probe = buildStack(format, [{}, { '.wh..wh..opq': 'file' }]);
    const shown = !(format.isReservedName('.wh..wh..opq') || format.isInternal('.wh..wh..opq'));
    expect(lowerHas(rootNode(probe), '.wh..wh..opq', probe, format)).toBe(shown);
  });

  it('lowerPart keeps every branch but the top layer', () => {
    const probe = buildStack(format, [{ d: 'dir' }, { d: 'dir' }, { d: 'dir' }]);
    const d = resolveExisting(toViewPath('/d'), probe, format);
    expect(lowerPart(d).branches).toEqual([{ layer: 1, rel: 'd' }, { layer: 2, rel: 'd' }]);
  });

  it.for([
    { what: 'a directory in two layers', layers: [{ d: 'dir' }, { d: 'dir' }], merged: true, upper: true },
    { what: 'a directory only in the top layer', layers: [{ d: 'dir' }, {}], merged: false, upper: true },
    { what: 'an opaque top directory over a lower one', layers: [{ d: 'dir opaque' }, { d: 'dir' }], merged: false, upper: true },
    { what: 'a directory in two lower layers', layers: [{}, { d: 'dir' }, { d: 'dir' }], merged: true, upper: false },
    { what: 'a redirected directory', layers: [{ d: 'dir redirect=/o' }, { o: 'dir' }], merged: true, upper: true },
    { what: 'a file over a directory', layers: [{ d: 'file' }, { d: 'dir' }], merged: false, upper: true },
    { what: 'a file only in a lower layer', layers: [{}, { d: 'file' }], merged: false, upper: false },
  ] as const)('$what: isMerged is $merged, isUpper is $upper', (row) => {
    const probe = buildStack(format, row.layers);
    const node = resolveExisting(toViewPath('/d'), probe, format);
    expect(isMerged(node)).toBe(row.merged);
    expect(isUpper(node)).toBe(row.upper);
  });
});

describe('markers of the bottom layer', () => {
  const aufs = fmt('aufs');

  /** The (layer, rel) pairs `probe.entry` was asked for while `run` ran. */
  function entriesRead(probe: MemoryLayers, run: (p: LayerProbe) => void): string[] {
    const read: string[] = [];
    const counting = Object.create(probe) as MemoryLayers;
    counting.entry = (layer: number, rel: string) => {
      read.push(`${layer}:${rel}`);
      return probe.entry(layer, rel);
    };
    run(counting);
    return read;
  }

  it('a name no layer has reads no whiteout marker in the bottom layer, and one in every layer above', () => {
    const probe = buildStack(aufs, [{ d: 'dir' }, { d: 'dir' }, { d: 'dir' }]);
    const read = entriesRead(probe, (p) => expect(outcome(() => resolve(toViewPath('/d/missing'), p, aufs))).toEqual(absent));
    expect(read).toContain('0:d/.wh.missing');
    expect(read).toContain('1:d/.wh.missing');
    expect(read).not.toContain('2:d/.wh.missing');
  });

  it('a whiteout in the bottom layer hides nothing: the name is absent as without it', () => {
    const probe = buildStack(aufs, [{}, { a: 'whiteout', b: 'file +whiteout' }]);
    expect(outcome(() => resolve(toViewPath('/a'), probe, aufs))).toEqual(absent);
    expect(outcome(() => resolve(toViewPath('/b'), probe, aufs))).toEqual(found('file', [1, 'b']));
  });

  it('a one-layer stack, whose bottom is its top, still reports the whiteout a create must remove', () => {
    const probe = buildStack(aufs, [{ a: 'whiteout' }]);
    expect(outcome(() => resolve(toViewPath('/a'), probe, aufs))).toEqual(whitedOutAt(0));
  });
});
