// Stable inode numbers across copy-up (overlayfs: trusted.overlay.origin, ovl_getattr, xino). A copy
// records its origin in the format's origin xattr and reports the origin's number while the origin
// is provably that same inode and hidden by the copy; otherwise its own. Decisions: core/inode-number.ts.
//
// Why no two objects of a view ever report one number (the argument the checks below implement):
// - Numbers are `fsIndex << 40 | host ino` (xino): the top layer's filesystem is index 0, the
//   others' follow in stack order, so objects on different filesystems never meet.
// - An object reports either its own number or a recorded origin's. Two own numbers are equal only
//   for one inode (its hard links: one object). An origin's number is its own number too, so the
//   danger is (a) an inode reusing the origin's number after the origin is deleted (ext4 reuses
//   them at once), (b) the origin itself being visible elsewhere, (c) two copies claiming one origin.
// - (a) The record holds the origin's birth time, and is written only if the copy was born in a
//   later clock tick than the origin and the origin was seen alive after the copy existed; an inode
//   that reuses the number is born after that, so its birth time differs: a check finds it is not
//   the origin. Assumes the clock never steps back and btime-capable filesystems (ext4, xfs, btrfs,
//   tmpfs) keep nanoseconds. No birth time (ext4 with 128-byte inodes): no record, own number.
// - (b) The origin must be at its recorded path with one link (overlayfs's nlink rule: a lower hard
//   link can be copied up to different files), so it has no other name; and its place in the view
//   must show the copy itself (that inode, under any name) or be whited out *in the copy's own
//   layer*. Every change the view makes keeps a copy's origin hidden, so this only fails after
//   changes behind the view's back. The origin is looked at by path lstat, like the daemon's other
//   lstats (fs/README.md, Safety): a lower directory swapped for a symlink could fool the check.
// - (c) One place has one answer, so two copies pass only if both were renamed away and the place
//   is whited out in the layer they share. A view never makes that (once copied, the origin is
//   hidden from it), so only a merge could bring two such copies together: a merge keeps a record
//   only on an object that lands at its origin's place (settleOrigins).
// Symlinks and special files take no `user.*` xattr: with aufs their records live in the layer's
// origin table instead (format.originTable), one entry per inode, so they follow any rename too.
// A place too deep for the record's value (ext4 keeps about 4 KiB of xattrs per inode, a symlink
// PATH_MAX) is recorded by name: the origin is that name in the origin of the copy's directory
// (its redirects followed, core/origin.ts), written only when that places it right (see recordAt).
// A further copy of a copy records what the source reported (the first origin, or the source), so
// numbers propagate up a child world's stack. Checks cost getattr one lstat of the origin for copies
// (plus a walk of the origin's path for renamed ones); records are read once per inode and ctime
// (never in the bottom layer: no origin can be below it), and an inode found without one is not
// asked again while its birth time is the same: a record is only ever written on a new inode (a
// copy, before it is placed), so an inode never gains one (a merge that moves recorded inodes into
// a layer reloads every daemon stacking it).
import type { BigIntStats } from 'node:fs';
import { lstatSync, mkdirSync, readdirSync, readlinkSync, rmSync, symlinkSync } from './host-fs.js';
import { isFsError } from '../core/errors.js';
import {
  composeIno, coveredBy, decodeOrigin, encodeOrigin, layerKey, mayRecord, MAX_FS_INDEX, originHolds, overflowIno, placeRecord,
  type OriginRecord, type PlaceInView,
} from '../core/inode-number.js';
import { originIn } from '../core/origin.js';
import { relOf } from '../core/paths.js';
import { lookupChild, rootNode, type ViewNode } from '../core/resolve.js';
import type { WhiteoutFormat } from '../core/whiteout/format.js';
import { hostCode } from './errors.js';
import type { HostLayers } from './layer-probe.js';
import { getXattr, removeXattr, setXattr } from './xattr.js';

/** What the checks need of a view: its layers (format included). Union satisfies it. */
export interface NumberedView {
  readonly layers: HostLayers;
}

/** Per layer stack: layer identities, filesystem indexes, and records read so far. */
interface StackNumbers {
  /** Layer key -> index; a key two layers share maps to -1 (never honoured). */
  readonly layerOf: Map<string, number>;
  readonly keyOf: (string | undefined)[];
  readonly fsIndex: Map<bigint, number>;
  readonly overflow: Map<string, number>;
  /**
   * Host inode number -> the record inode (dev, ino) carried at ctime `ctimeNs` (null: none), and
   * whether nothing at all is stored on that inode (`none`, for its birth time `btimeNs`).
   */
  readonly records: Map<number, { dev: bigint; ctimeNs: bigint; btimeNs: bigint; none: boolean; record: OriginRecord | null }>;
  /** The last device looked up and its index: nearly every call asks for the same one. */
  lastDev: bigint;
  lastIndex: number;
}

const RECORD_CACHE_MAX = 1 << 16;
const stacks = new WeakMap<HostLayers, StackNumbers>();

function numbersOf(layers: HostLayers): StackNumbers {
  let s = stacks.get(layers);
  if (s) return s;
  s = { layerOf: new Map(), keyOf: [], fsIndex: new Map(), overflow: new Map(), records: new Map(), lastDev: -1n, lastIndex: -1 };
  layers.roots.forEach((root, i) => {
    const st = lstatSync(root, { bigint: true, throwIfNoEntry: false });
    if (!st) return;
    if (!s!.fsIndex.has(st.dev)) s!.fsIndex.set(st.dev, s!.fsIndex.size);
    const key = layerKey(st.ino, st.birthtimeNs);
    s!.keyOf[i] = key;
    s!.layerOf.set(key, s!.layerOf.has(key) ? -1 : i);
  });
  stacks.set(layers, s);
  return s;
}

/** The view's number for host inode (dev, ino), ignoring any origin. */
export function ownIno(view: NumberedView, st: { dev: bigint; ino: bigint }): number {
  const s = numbersOf(view.layers);
  let idx = st.dev === s.lastDev ? s.lastIndex : s.fsIndex.get(st.dev);
  // A filesystem mounted inside a lower layer: numbered in order of appearance, for this daemon.
  if (idx === undefined && s.fsIndex.size <= MAX_FS_INDEX) s.fsIndex.set(st.dev, (idx = s.fsIndex.size));
  if (idx !== undefined) {
    s.lastDev = st.dev;
    s.lastIndex = idx;
  }
  const n = idx === undefined ? undefined : composeIno(idx, st.ino);
  if (n !== undefined) return n;
  const key = `${st.dev}:${st.ino}`;
  let o = s.overflow.get(key);
  if (o === undefined) s.overflow.set(key, (o = overflowIno(s.overflow.size + 1)));
  return o;
}

/** Where the format's origin table keeps the record of inode `st` of the layer at `root`, if it may. */
function tableEntry(format: WhiteoutFormat, root: string, st: { ino: bigint; birthtimeNs: bigint; mode: bigint | number }): string | undefined {
  const kind = Number(st.mode) & 0o170000;
  if (format.originTable === undefined || kind === 0o100000 || kind === 0o040000) return undefined; // files, dirs: xattr
  return `${root === '/' ? '' : root}/${format.originTable}/${st.ino}.${st.birthtimeNs}`;
}

/**
 * The record of the inode at `rel` in `layer` (lstat `st`), read once per inode and ctime. A
 * by-name record (a deep place) is placed below the origin of `rel`'s directory; one on an inode
 * with several names is not honoured, as its names in different directories would place it
 * differently and so report different numbers. The placed record is kept: a rename of the inode
 * changes its ctime, and one of a directory above leaves a redirect that places it the same.
 */
function recordAt(s: StackNumbers, layers: HostLayers, layer: number, rel: string, st: BigIntStats): OriginRecord | undefined {
  const key = Number(st.ino);
  const known = s.records.get(key);
  if (known && known.dev === st.dev) {
    if (known.ctimeNs === st.ctimeNs) return known.record ?? undefined;
    // Nothing stored on this very inode (its ctime changed since: a chmod, a write): it gains nothing.
    if (known.none && st.birthtimeNs !== 0n && known.btimeNs === st.birthtimeNs) return undefined;
  }
  let record: OriginRecord | null = null;
  let none = false;
  const entry = tableEntry(layers.format, layers.hostPath(layer, ''), st);
  try {
    const v = entry === undefined ? getXattr(layers.hostPath(layer, rel), layers.format.origin)?.toString('utf8') : readlinkSync(entry);
    none = v === undefined;
    const stored = v === undefined ? undefined : decodeOrigin(v);
    if (stored !== undefined && (!stored.byName || st.isDirectory() || st.nlink === 1n)) {
      record = placeRecord(stored, () => originIn(layers, layer, dirOf(rel)));
    }
  } catch (e) {
    if (!isFsError(e) && hostCode(e) === undefined) throw e; // no xattrs here, no entry, gone meanwhile: no record
    none = entry !== undefined && hostCode(e) === 'ENOENT'; // no table entry for the inode
  }
  if (s.records.size >= RECORD_CACHE_MAX) s.records.clear();
  s.records.set(key, { dev: st.dev, ctimeNs: st.ctimeNs, btimeNs: st.birthtimeNs, none, record });
  return record ?? undefined;
}

/** What the view shows at `rel`, walked from the root one component at a time. */
function placeOf(view: NumberedView, rel: string): PlaceInView {
  const { layers } = view;
  try {
    let dir = rootNode(layers);
    const names = rel.split('/');
    for (let i = 0; i < names.length; i++) {
      const r = lookupChild(dir, names[i]!, layers, layers.format);
      if (r.kind === 'absent') return r.whiteoutAt === undefined ? { kind: 'other' } : { kind: 'whiteout', layer: r.whiteoutAt };
      const top = r.node.branches[0]!;
      if (i === names.length - 1) {
        const st = lstatSync(layers.hostPath(top.layer, top.rel), { bigint: true, throwIfNoEntry: false });
        return st ? { kind: 'object', layer: top.layer, id: `${st.dev}:${st.ino}` } : { kind: 'other' };
      }
      if (r.node.entry.kind !== 'dir') return { kind: 'other' };
      dir = r.node;
    }
  } catch (e) {
    if (!isFsError(e)) throw e;
  }
  return { kind: 'other' };
}

/** The origin whose number `node` (lstat `st` of its highest copy) reports, with its device; undefined: its own. */
function claimOf(view: NumberedView, node: ViewNode, st: BigIntStats): { record: OriginRecord; dev: bigint } | undefined {
  const { layers } = view;
  const top = node.branches[0]!;
  // The bottom layer has no layer below it, where an origin must be (originHolds): whatever its
  // inodes carry, none can hold, so none is read (a world over / sees its whole base this way).
  if (top.layer === layers.roots.length - 1) return undefined;
  const s = numbersOf(layers);
  const record = recordAt(s, layers, top.layer, top.rel, st);
  if (record === undefined) return undefined;
  const k = s.layerOf.get(record.layer);
  const originLayer = k === undefined || k < 0 ? undefined : k;
  const seen = originLayer === undefined ? undefined : lstatSync(layers.hostPath(originLayer, record.rel), { bigint: true, throwIfNoEntry: false });
  const sighting = seen && { ino: seen.ino, btimeNs: seen.birthtimeNs, nlink: Number(seen.nlink), isDir: seen.isDirectory() };
  const atOwnPlace = top.rel === record.rel && relOf(node.path) === record.rel;
  const holds = originHolds(record, originLayer, top.layer, sighting, () =>
    atOwnPlace || coveredBy(placeOf(view, record.rel), top.layer, `${st.dev}:${st.ino}`));
  return holds ? { record, dev: seen!.dev } : undefined;
}

/** st_ino of `node` as the view reports it; `st` is the bigint lstat of its highest copy. */
export function reportedIno(view: NumberedView, node: ViewNode, st: BigIntStats): number {
  let claim;
  try {
    claim = claimOf(view, node, st);
  } catch (e) {
    if (!isFsError(e) && hostCode(e) === undefined) throw e;
  }
  return claim ? ownIno(view, { dev: claim.dev, ino: claim.record.ino }) : ownIno(view, st);
}

/** The directory part of a layer-relative path ('' for the layer root). */
const dirOf = (rel: string): string => rel.slice(0, Math.max(rel.lastIndexOf('/'), 0));

const QUIET = new Set(['EPERM', 'EOPNOTSUPP', 'ENOTSUP', 'EACCES', 'ENOSPC', 'E2BIG', 'ERANGE', 'ENOENT']);
const quiet = (e: unknown) => QUIET.has((isFsError(e) ? e.code : hostCode(e)) ?? '');

/**
 * Copy-up hook: before `copy` (the new copy of `node`, still in the work directory) is placed,
 * record on it the origin whose number `node` reports, so the copy reports it too. Silently
 * records nothing when that cannot be proven safe later (no birth time, same clock tick, no
 * xattrs on the top layer, a `user.*` name on a symlink or special file).
 */
export function recordOrigin(view: NumberedView, node: ViewNode, copy: string): void {
  const { layers } = view;
  try {
    const copySt = lstatSync(copy, { bigint: true });
    const top = node.branches[0]!;
    // Looked at after the copy exists: see the header, (a).
    const st = lstatSync(layers.hostPath(top.layer, top.rel), { bigint: true });
    const claim = claimOf(view, node, st);
    const key = numbersOf(layers).keyOf[top.layer];
    const record = claim?.record ?? (key === undefined ? undefined : { layer: key, rel: top.rel, ino: st.ino, btimeNs: st.birthtimeNs });
    if (record === undefined || !mayRecord(record.btimeNs, copySt.birthtimeNs)) return;
    const entry = tableEntry(layers.format, layers.hostPath(0, ''), copySt);
    // A place too deep for the value (ext4 holds about 4 KiB of xattrs, a symlink PATH_MAX) is
    // stored by name, when the copy's directory places it right (see recordAt).
    const byName = () => dirOf(record.rel) === originIn(layers, 0, dirOf(relOf(node.path)));
    if (entry === undefined) {
      return storeRecord(record, byName, (v) => setXattr(copy, layers.format.origin, v));
    }
    // The entry is named after the copy's own inode, so it stays valid wherever the copy is renamed.
    mkdirSync(entry.slice(0, entry.lastIndexOf('/')), { recursive: true, mode: 0o700 });
    rmSync(entry, { force: true });
    storeRecord(record, byName, (v) => symlinkSync(v, entry));
  } catch (e) {
    if (!quiet(e) && hostCode(e) !== 'ENAMETOOLONG') throw e;
  }
}

/** Store `record` with `write`; if it is too long, by name when `byName()` says that places it right. */
function storeRecord(record: OriginRecord, byName: () => boolean, write: (value: string) => void): void {
  try {
    write(encodeOrigin(record));
  } catch (e) {
    const code = isFsError(e) ? e.code : hostCode(e);
    if (!record.rel.includes('/') || !TOO_LONG.has(code ?? '') || !byName()) throw e;
    write(encodeOrigin(record, true));
  }
}

const TOO_LONG = new Set(['ENOSPC', 'E2BIG', 'ERANGE', 'ENAMETOOLONG']);

/** Materialising a metacopy file replaces its inode: the new one (`to`) keeps `from`'s record. */
export function carryOrigin(from: string, to: string, format: WhiteoutFormat): void {
  try {
    const v = getXattr(from, format.origin);
    if (v !== undefined) setXattr(to, format.origin, v);
  } catch (e) {
    if (!quiet(e)) throw e;
  }
}

/**
 * Merge hook: `rel` was just moved into the layer at `root`. A record survives only on an object
 * that landed at its origin's recorded place; renamed copies (and anything under a moved
 * directory that is not at its origin's place) lose theirs and report their own numbers. See (c).
 * By-name records (deep places) are dropped too: their name alone does not say the place.
 */
export function settleOrigins(root: string, rel: string, format: WhiteoutFormat): void {
  const path = rel === '' ? root : root + '/' + rel;
  const st = lstatSync(path, { throwIfNoEntry: false, bigint: true });
  if (!st) return;
  const entry = tableEntry(format, root, st);
  try {
    const v = entry === undefined ? getXattr(path, format.origin)?.toString('utf8') : readlinkSync(entry);
    const record = v === undefined ? undefined : decodeOrigin(v);
    if (v !== undefined && record?.rel !== rel) {
      if (entry === undefined) removeXattr(path, format.origin);
      else rmSync(entry, { force: true });
    }
  } catch (e) {
    if (!quiet(e) && hostCode(e) !== 'ENODATA') throw e;
  }
  if (!st.isDirectory()) return;
  for (const name of readdirSync(path)) settleOrigins(root, rel === '' ? name : rel + '/' + name, format);
}
