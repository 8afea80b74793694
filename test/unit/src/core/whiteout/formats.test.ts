// Whiteout formats (src/core/whiteout/*): one row per format with the LayerOps and classifications it
// must produce, a guard that every format in WHITEOUT_FORMATS has a row, and round trips through an
// in-memory layer that hold for every format without a row of their own.
import { describe, expect, it } from 'vitest';
import { mergeListings } from '../../../../../src/core/listing.js';
import { toViewPath } from '../../../../../src/core/paths.js';
import { resolve, rootNode } from '../../../../../src/core/resolve.js';
import { WHITEOUT_FORMATS, whiteoutFormat, type EntryKind, type LayerOp, type MarkerSpec } from '../../../../../src/core/whiteout/index.js';
import { buildStack, makedev } from '../../../../helpers/memory-layers.js';

interface FormatRow {
  readonly opaque: MarkerSpec;
  readonly redirect: MarkerSpec;
  /** markerFor('x'). */
  readonly markerOfX: string | undefined;
  readonly whiteoutInRoot: LayerOp[];       // whiteout('', 'x')
  readonly whiteoutInDir: LayerOp[];        // whiteout('d/e', 'x')
  readonly unwhiteoutInDir: LayerOp[];      // unwhiteout('d', 'x')
  readonly makeOpaqueRoot: LayerOp[];       // makeOpaque('')
  readonly makeOpaqueDir: LayerOp[];        // makeOpaque('d/e')
  readonly setRedirect: LayerOp[];          // setRedirect('d/new', '/a/old')
  readonly clearRedirect: LayerOp[];        // clearRedirect('d/new')
  /** Names (as readdir lists them) that are markers, with the name each hides. */
  readonly markers: Readonly<Record<string, string>>;
  readonly internalNames: readonly string[];
  readonly reservedNames: readonly string[];
  /** Names that are none of internal, reserved or a marker. */
  readonly ordinaryNames: readonly string[];
  readonly whiteoutEntries: readonly (readonly [EntryKind, number])[];
  readonly reservedDevices: readonly (readonly [EntryKind, number])[];
  /** Devices that are neither whiteouts nor reserved. */
  readonly ordinaryDevices: readonly (readonly [EntryKind, number])[];
  readonly internalXattrs: readonly string[];
  readonly ordinaryXattrs: readonly string[];
  /** Where a copy records the origin whose inode number it keeps (src/core/inode-number.ts). */
  readonly origin: string;
  /** Where objects that cannot hold that xattr keep it (an internal directory at the layer root). */
  readonly originTable: string | undefined;
}

const COMMON_ORDINARY_NAMES = ['x', 'wh.x', '.whx', 'x.wh.', '.wh', 'a.wh.b'];
const COMMON_ORDINARY_DEVICES = [['chardev', makedev(1, 3)], ['blockdev', 0], ['blockdev', makedev(8, 0)], ['file', 0], ['fifo', 0]] as const;
const USER_XATTRS = ['user.mime_type', 'security.selinux', 'trusted.foo'];

const overlayRow = (prefix: string, otherPrefix: string): FormatRow => ({
  opaque: { kind: 'xattr', name: prefix + 'opaque' },
  redirect: { kind: 'xattr', name: prefix + 'redirect' },
  markerOfX: undefined,
  whiteoutInRoot: [{ op: 'mknod-whiteout', rel: 'x' }],
  whiteoutInDir: [{ op: 'mknod-whiteout', rel: 'd/e/x' }],
  unwhiteoutInDir: [{ op: 'remove', rel: 'd/x' }],
  makeOpaqueRoot: [{ op: 'set-xattr', rel: '', name: prefix + 'opaque', value: 'y' }],
  makeOpaqueDir: [{ op: 'set-xattr', rel: 'd/e', name: prefix + 'opaque', value: 'y' }],
  setRedirect: [{ op: 'set-xattr', rel: 'd/new', name: prefix + 'redirect', value: '/a/old' }],
  clearRedirect: [{ op: 'remove-xattr', rel: 'd/new', name: prefix + 'redirect' }],
  markers: {},
  internalNames: [],
  reservedNames: [],
  ordinaryNames: [...COMMON_ORDINARY_NAMES, '.wh.x', '.wh..wh..opq', '.wh..wh..redir'],
  whiteoutEntries: [['chardev', 0]],
  reservedDevices: [['chardev', 0]],
  ordinaryDevices: COMMON_ORDINARY_DEVICES,
  internalXattrs: [prefix + 'opaque', prefix + 'redirect', prefix + 'origin', prefix + 'metacopy', prefix + 'worldos.origin'],
  ordinaryXattrs: [...USER_XATTRS, otherPrefix + 'opaque', prefix.slice(0, -1)],
  origin: prefix + 'worldos.origin',
  originTable: undefined,
});

/** One row per format in WHITEOUT_FORMATS: a researcher adding a format adds its row here. */
const TABLE: Readonly<Record<string, FormatRow>> = {
  aufs: {
    opaque: { kind: 'file', name: '.wh..wh..opq' },
    redirect: { kind: 'symlink', name: '.wh..wh..redir' },
    markerOfX: '.wh.x',
    whiteoutInRoot: [{ op: 'create-marker', rel: '.wh.x' }],
    whiteoutInDir: [{ op: 'create-marker', rel: 'd/e/.wh.x' }],
    unwhiteoutInDir: [{ op: 'remove', rel: 'd/.wh.x' }],
    makeOpaqueRoot: [{ op: 'create-marker', rel: '.wh..wh..opq' }],
    makeOpaqueDir: [{ op: 'create-marker', rel: 'd/e/.wh..wh..opq' }],
    setRedirect: [
      { op: 'remove', rel: 'd/new/.wh..wh..redir' },
      { op: 'symlink', rel: 'd/new/.wh..wh..redir', target: '/a/old' },
    ],
    clearRedirect: [{ op: 'remove', rel: 'd/new/.wh..wh..redir' }],
    markers: { '.wh.x': 'x', '.wh.a b': 'a b', '.wh..x': '.x' },
    internalNames: ['.wh..wh..opq', '.wh..wh..redir', '.wh..wh.work', '.wh..wh.'],
    reservedNames: ['.wh.x', '.wh..wh..opq', '.wh.', '.wh..x'],
    ordinaryNames: COMMON_ORDINARY_NAMES,
    whiteoutEntries: [],
    reservedDevices: [],
    ordinaryDevices: [...COMMON_ORDINARY_DEVICES, ['chardev', 0]],
    internalXattrs: ['user.worldos.origin', 'user.worldos.metacopy'],
    ordinaryXattrs: [...USER_XATTRS, 'trusted.overlay.opaque', 'user.overlay.redirect'],
    origin: 'user.worldos.origin',
    originTable: '.wh..wh.ino',
  },
  overlay: overlayRow('trusted.overlay.', 'user.overlay.'),
  'overlay-user': overlayRow('user.overlay.', 'trusted.overlay.'),
};

const FORMAT_IDS = [...WHITEOUT_FORMATS.keys()];

describe('the whiteout format table', () => {
  it('has a row for every format in WHITEOUT_FORMATS and none for a format that is gone', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...FORMAT_IDS].sort());
  });

  it('registers every format under its own id', () => {
    for (const [id, f] of WHITEOUT_FORMATS) expect(f.id).toBe(id);
  });

  it('looks formats up by id', () => {
    for (const id of FORMAT_IDS) expect(whiteoutFormat(id)).toBe(WHITEOUT_FORMATS.get(id));
  });

  it('rejects an unknown id with a message that lists the known ones', () => {
    expect(() => whiteoutFormat('nope')).toThrow(/unknown whiteout format "nope".*aufs/);
  });
});

describe.each(FORMAT_IDS)('the %s format', (id) => {
  const f = WHITEOUT_FORMATS.get(id)!;
  // A missing row fails the table guard above; here it only keeps this block from crashing.
  const row = TABLE[id];
  if (!row) return;

  it('keeps the inode-number origin record in an xattr of its own, hidden like its other bookkeeping', () => {
    expect(f.origin).toBe(row.origin);
    expect(f.isInternalXattr(f.origin)).toBe(true);
    expect(f.origin).not.toBe(f.metacopy);
    expect(f.originTable).toBe(row.originTable);
    if (f.originTable !== undefined) expect(f.isInternal(f.originTable), 'the table is never shown').toBe(true);
  });

  it('declares where it keeps opaque flags and redirects', () => {
    expect(f.opaque).toEqual(row.opaque);
    expect(f.redirect).toEqual(row.redirect);
  });

  it('names the marker that whites out a name, or none when the whiteout replaces the entry', () => {
    expect(f.markerFor('x')).toBe(row.markerOfX);
  });

  it('whites out a name in the layer root and in a nested directory', () => {
    expect(f.whiteout('', 'x')).toEqual(row.whiteoutInRoot);
    expect(f.whiteout('d/e', 'x')).toEqual(row.whiteoutInDir);
  });

  it('removes a whiteout', () => {
    expect(f.unwhiteout('d', 'x')).toEqual(row.unwhiteoutInDir);
  });

  it('marks the layer root and a nested directory opaque', () => {
    expect(f.makeOpaque('')).toEqual(row.makeOpaqueRoot);
    expect(f.makeOpaque('d/e')).toEqual(row.makeOpaqueDir);
  });

  it('records a redirect on a directory', () => {
    expect(f.setRedirect('d/new', '/a/old')).toEqual(row.setRedirect);
  });

  it('removes a redirect from a directory', () => {
    expect(f.clearRedirect('d/new')).toEqual(row.clearRedirect);
  });

  it.for(Object.entries(row.markers))('reads the listed name %s as a marker hiding %j', ([marker, hides]) => {
    expect(f.hiddenByMarker(marker)).toBe(hides);
  });

  it.for(row.internalNames)('keeps %s internal', (name) => {
    expect(f.isInternal(name)).toBe(true);
    expect(f.hiddenByMarker(name)).toBeUndefined();
  });

  it.for(row.reservedNames)('reserves the name %s', (name) => {
    expect(f.isReservedName(name)).toBe(true);
  });

  it.for(row.ordinaryNames)('treats the name %s as ordinary', (name) => {
    expect(f.isInternal(name)).toBe(false);
    expect(f.isReservedName(name)).toBe(false);
    expect(f.hiddenByMarker(name)).toBeUndefined();
  });

  it.for(row.whiteoutEntries)('reads a %s with rdev %i as a whiteout', ([kind, rdev]) => {
    expect(f.isWhiteout({ kind, rdev })).toBe(true);
  });

  it.for(row.reservedDevices)('refuses to let a user create a %s with rdev %i', ([kind, rdev]) => {
    expect(f.isReservedDevice(kind, rdev)).toBe(true);
  });

  it.for(row.ordinaryDevices)('treats a %s with rdev %i as an ordinary entry', ([kind, rdev]) => {
    expect(f.isWhiteout({ kind, rdev })).toBe(false);
    expect(f.isReservedDevice(kind, rdev)).toBe(false);
  });

  it.for(row.internalXattrs)('owns the xattr %s', (name) => {
    expect(f.isInternalXattr(name)).toBe(true);
  });

  it.for(row.ordinaryXattrs)('leaves the xattr %s to the user', (name) => {
    expect(f.isInternalXattr(name)).toBe(false);
  });
});

// Properties every format must have, checked by performing its ops on an in-memory layer and reading
// the result back through the resolver: a new format is covered here without writing anything.
describe.each(FORMAT_IDS)('the %s format, round trip through a layer', (id) => {
  const f = WHITEOUT_FORMATS.get(id)!;

  it('a whiteout it writes hides the lower entry and is itself never listed', () => {
    const probe = buildStack(f, [{ d: 'dir' }, { 'd/x': 'file', 'd/y': 'file' }]);
    probe.apply(0, f.whiteout('d', 'x'));
    const r = resolve(toViewPath('/d/x'), probe, f);
    expect(r.kind === 'absent' && r.whiteoutAt).toBe(0);
    expect(mergeListings([probe.list(0, 'd'), probe.list(1, 'd')], f)).toEqual(['y']);
  });

  it('removing the whiteout it wrote shows the lower entry again', () => {
    const probe = buildStack(f, [{ d: 'dir' }, { 'd/x': 'file' }]);
    probe.apply(0, f.whiteout('d', 'x'));
    probe.apply(0, f.unwhiteout('d', 'x'));
    expect(probe.layer(0).dump()).toEqual({ d: 'dir' });
    expect(resolve(toViewPath('/d/x'), probe, f).kind).toBe('found');
  });

  it('an opaque marker it writes is seen by the probe and stops the merge', () => {
    const probe = buildStack(f, [{ d: 'dir' }, { 'd/x': 'file' }]);
    probe.apply(0, f.makeOpaque('d'));
    expect(probe.isOpaque(0, 'd')).toBe(true);
    expect(probe.isOpaque(0, '')).toBe(false);
    expect(resolve(toViewPath('/d/x'), probe, f).kind).toBe('absent');
    expect(mergeListings([probe.list(0, 'd')], f)).toEqual([]);
  });

  it('an opaque marker on the layer root stops the merge of roots', () => {
    const probe = buildStack(f, [{}, { x: 'file' }]);
    probe.apply(0, f.makeOpaque(''));
    expect(rootNode(probe).branches).toEqual([{ layer: 0, rel: '' }]);
  });

  it.for(['/a/old', 'old'])('a redirect to %s it records reads back unchanged, and a second one replaces it', (target) => {
    const probe = buildStack(f, [{ 'd/new': 'dir' }]);
    expect(probe.redirectOf(0, 'd/new')).toBeUndefined();
    probe.apply(0, f.setRedirect('d/new', '/first'));
    probe.apply(0, f.setRedirect('d/new', target));
    expect(probe.redirectOf(0, 'd/new')).toBe(target);
    expect(mergeListings([probe.list(0, 'd/new')], f)).toEqual([]);
  });

  it('clearing the redirect it recorded leaves the directory plain, and clearing none is fine', () => {
    const probe = buildStack(f, [{ 'd/new': 'dir', 'd/plain': 'dir' }, { 'a/old/x': 'file' }]);
    probe.apply(0, f.setRedirect('d/new', '/a/old'));
    probe.apply(0, f.clearRedirect('d/new'));
    probe.apply(0, f.clearRedirect('d/plain'));
    expect(probe.redirectOf(0, 'd/new')).toBeUndefined();
    expect(probe.layer(0).dump()).toEqual({ d: 'dir', 'd/new': 'dir', 'd/plain': 'dir' });
    const r = resolve(toViewPath('/d/new'), probe, f);
    expect(r.kind === 'found' && r.node.branches).toEqual([{ layer: 0, rel: 'd/new' }]);
  });

  it('a marker name it reads maps back to the name it was written for', () => {
    const m = f.markerFor('x');
    if (m !== undefined) expect(f.hiddenByMarker(m)).toBe('x');
    else expect(f.whiteout('', 'x').some((op) => op.rel === 'x')).toBe(true);
  });

  it('the entry its whiteout op leaves is a whiteout, a marker, or an internal name', () => {
    const probe = buildStack(f, [{}]);
    probe.apply(0, f.whiteout('', 'x'));
    const [e, ...rest] = probe.list(0, '');
    expect(rest).toEqual([]);
    expect(f.isWhiteout(e!) || f.hiddenByMarker(e!.name) === 'x').toBe(true);
  });

  it('a device it reads as a whiteout is one a user may not create', () => {
    for (const [kind, rdev] of [['chardev', 0], ['chardev', makedev(1, 3)], ['blockdev', 0]] as const) {
      if (f.isWhiteout({ kind, rdev })) expect(f.isReservedDevice(kind, rdev)).toBe(true);
    }
  });

  it('its marker entries inside a directory are internal names, and its marker xattrs are internal xattrs', () => {
    for (const spec of [f.opaque, f.redirect]) {
      if (spec.kind === 'xattr') expect(f.isInternalXattr(spec.name)).toBe(true);
      else expect(f.isInternal(spec.name)).toBe(true);
    }
  });

  it('a name a user may create is never read as a marker', () => {
    for (const name of ['x', '.wh.x', '.wh..wh..opq', 'a.wh.b']) {
      if (!f.isReservedName(name) && !f.isInternal(name)) expect(f.hiddenByMarker(name)).toBeUndefined();
    }
  });
});
