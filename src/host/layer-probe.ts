// The resolver's view of real layer directories: lstat, opaque and redirect markers, listings.
// Paths are joined from a realpath'd layer root and relative paths the resolver built one
// component at a time, so a symlink inside a layer is never traversed (it resolves as a non-dir).
import { closeSync, constants, type Dirent } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { fsError } from '../core/errors.js';
import { relJoin } from '../core/paths.js';
import type { DirNodes, LayerProbe, ViewNode } from '../core/resolve.js';
import type { ListedEntry } from '../core/listing.js';
import { NO_LOWER_CACHE, type DirRecord, type LowerCache, type ResolveMemo } from '../core/lower-cache.js';
import type { TopMemo } from '../core/top-memo.js';
import type { MarkerSpec, RawEntry, WhiteoutFormat } from '../core/whiteout/format.js';
import { kindOf, knownKindOfMode } from './entry.js';
import { lstatNoSymlinks, lstatSync, readdirSync, readlinkSync, type ModeAndRdev } from './host-fs.js';
import { fromErrno, fromHost, host, hostCode } from './errors.js';
import { openVerified } from './safe-open.js';
import { getXattr } from './xattr.js';
import { loopTurn } from './loop-turn.js';

const { O_RDONLY, O_DIRECTORY } = constants;
const { ENOENT, ENOTDIR, ELOOP } = osConstants.errno;

/**
 * A stack of real directories: roots[0] is the writable top layer.
 * Two kinds of paths in the lower layers are kept out of the view:
 * - `emptied` (e.g. proc, sys, dev, the world store): shown as directories, contents never read;
 * - `hidden` (FUSE mountpoints inside a layer, refreshed from mountinfo): absent altogether, since
 *   even an lstat of them would be a request to another FUSE server (or to ourselves: deadlock).
 */
export class HostLayers implements LayerProbe {
  readonly layerCount: number;
  private readonly emptied: ReadonlySet<string>;
  private hidden: ReadonlyArray<ReadonlySet<string>> = [];
  private filtering = false;
  /**
   * `cache` remembers lower layers' listings and markers between requests (see lower-cache.ts);
   * `top` the top layer's entries and markers, for a stack whose every top-layer write is reported
   * through `topChanged` (a daemon's: see top-memo.ts). Without it the top layer is read afresh.
   */
  constructor(
    readonly roots: readonly string[],
    readonly format: WhiteoutFormat,
    emptied: readonly string[] = [],
    readonly cache: LowerCache = NO_LOWER_CACHE,
    private readonly top?: TopMemo<ViewNode>,
  ) {
    this.layerCount = roots.length;
    this.emptied = new Set(emptied);
    this.filtering = this.emptied.size > 0;
  }

  memo(): ResolveMemo | undefined {
    return this.cache.memo();
  }

  dirNodes(): DirNodes | undefined {
    return this.top;
  }

  /** Replace the set of hidden mountpoints from a list of absolute host paths. */
  setHiddenMounts(mountpoints: readonly string[]): void {
    this.hidden = this.roots.map((root, layer) => {
      const set = new Set<string>();
      if (layer === 0) return set;
      const prefix = root === '/' ? '/' : root + '/';
      for (const m of mountpoints) if (m.startsWith(prefix) && m.length > prefix.length) set.add(m.slice(prefix.length));
      return set;
    });
    this.filtering = this.emptied.size > 0 || this.hidden.some((s) => s.size > 0);
    this.cache.clear(); // resolutions made while a mount was visible must not outlive it
  }

  /** Whether `rel` in `layer` is kept out of the view (an emptied directory's child, or hidden). */
  private excluded(layer: number, rel: string): boolean {
    if (layer === 0) return false;
    if (this.hidden[layer]?.has(rel)) return true;
    const slash = rel.lastIndexOf('/');
    return this.emptied.has(slash < 0 ? '' : rel.slice(0, slash));
  }

  /**
   * The top layer changed at `rel` (LayerWriter reports every write of the daemon's; the top
   * layer's watch, writes made behind its back): what the top memo holds of it goes, and with
   * `deep`, all it holds below it. See src/core/top-memo.ts. Without a top memo, nothing to do.
   */
  topChanged(rel: string, deep: boolean): void {
    this.top?.changed(rel, deep);
  }

  /**
   * Writes to the top layer made behind the daemon's back go unreported (no watch on it, or not
   * any more): what the top memo holds lives no longer than `ttlMs` (0: one turn of the event
   * loop; Infinity: no bound). See TopMemo.bound.
   */
  topUnreported(ttlMs: number): void {
    this.top?.bound({ ttlMs, now: () => performance.now(), turn: loopTurn });
  }

  /**
   * Set by a daemon asked to check its top memo ($WORLDFS_TOP_MEMO_CHECK, fs/setup.ts): every
   * remembered answer is then compared with the layer, and a difference reported here (and the
   * layer's answer given). A test aid: it costs the system calls the memo saves.
   */
  onStaleTop: ((message: string) => void) | undefined;

  /** The host path of `rel` in `layer`. */
  hostPath(layer: number, rel: string): string {
    const root = this.roots[layer]!;
    return rel === '' ? root : root === '/' ? '/' + rel : root + '/' + rel;
  }

  entry(layer: number, rel: string): RawEntry | undefined {
    if (this.filtering && this.excluded(layer, rel)) return undefined;
    if (layer === 0) return this.top === undefined ? this.lstatEntry(0, rel) : this.topEntry(this.top, rel);
    const slash = rel.lastIndexOf('/');
    // A directory a readdir listed answers from its listing; otherwise one system call. A lookup
    // never lists its parent: in a directory of n entries that made n lookups read n² entries.
    const rec = this.cache.record(layer, slash < 0 ? '' : rel.slice(0, slash));
    if (rec?.entries !== undefined) return rec.entries.get(slash < 0 ? rel : rel.slice(slash + 1));
    // Below a directory the resolver saw (possibly remembered from an earlier request), a path
    // lstat would follow a symlink swapped in for that directory or an ancestor since: follow none.
    // Top-level names have no ancestor below the (realpath'd) root to follow.
    return slash < 0 ? this.lstatEntry(layer, rel) : this.noSymlinkEntry(layer, rel);
  }

  /** entry(0, rel) through the top memo. */
  private topEntry(memo: TopMemo<ViewNode>, rel: string): RawEntry | undefined {
    const known = memo.entry(rel);
    if (known === undefined) {
      const e = this.lstatEntry(0, rel);
      memo.setEntry(rel, e);
      return e;
    }
    if (this.onStaleTop === undefined) return known ?? undefined;
    const now = this.lstatEntry(0, rel);
    if (now?.kind !== known?.kind || now?.rdev !== known?.rdev) {
      this.onStaleTop(`entry ${JSON.stringify(rel)}: remembered ${known?.kind ?? 'absent'}, the layer has ${now?.kind ?? 'none'}`);
      memo.setEntry(rel, now);
    }
    return now;
  }

  /** marker(0, rel, spec) through the top memo. */
  private topMarker(memo: TopMemo<ViewNode>, rel: string, spec: MarkerSpec): string | undefined {
    let known = memo.marker(rel, spec.name);
    // A marker kept as an entry is absent where the directory's remembered listing lacks it.
    if (known === undefined && spec.kind !== 'xattr' && memo.entry(relJoin(rel, spec.name)) === null) known = null;
    if (known === undefined) {
      const v = this.readMarker(0, rel, spec);
      memo.setMarker(rel, spec.name, v);
      return v;
    }
    if (this.onStaleTop === undefined) return known ?? undefined;
    const now = this.readMarker(0, rel, spec);
    if (now !== (known ?? undefined)) {
      this.onStaleTop(`marker ${spec.name} of ${JSON.stringify(rel)}: remembered ${JSON.stringify(known)}, the layer has ${JSON.stringify(now ?? null)}`);
      memo.setMarker(rel, spec.name, now);
    }
    return now;
  }

  /** lstat of `rel` in `layer` by path. */
  private lstatEntry(layer: number, rel: string): RawEntry | undefined {
    let st;
    try {
      st = lstatSync(this.hostPath(layer, rel), { throwIfNoEntry: false });
    } catch (e) {
      if (hostCode(e) === 'ENOTDIR') return undefined;
      return fromHost(e);
    }
    if (st === undefined) return undefined;
    return { kind: kindOf(st), rdev: st.rdev };
  }

  /** lstat of `rel` in `layer` that follows no symlink on the way (ELOOP where one was swapped in). */
  private noSymlinkEntry(layer: number, rel: string): RawEntry | undefined {
    const path = this.hostPath(layer, rel);
    const err = lstatNoSymlinks(path, this.scratch);
    if (err === 0) return { kind: knownKindOfMode(this.scratch.mode), rdev: this.scratch.rdev };
    if (err === ENOENT || err === ENOTDIR) return undefined;
    return fromErrno(err, err === ELOOP ? `${path}: a directory on the way was replaced by a symlink` : path);
  }

  private readonly scratch: ModeAndRdev = { mode: 0, rdev: 0 };

  isOpaque(layer: number, rel: string): boolean {
    return this.marker(layer, rel, this.format.opaque) !== undefined;
  }

  redirectOf(layer: number, rel: string): string | undefined {
    return this.marker(layer, rel, this.format.redirect);
  }

  /** Whether the regular file `rel` in `layer` carries only metadata (its data is below). */
  isMetacopy(layer: number, rel: string): boolean {
    try {
      return getXattr(this.hostPath(layer, rel), this.format.metacopy) !== undefined;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'EOPNOTSUPP' || code === 'ENOTSUP' || code === 'ENOENT') return false;
      throw e;
    }
  }

  /**
   * The raw entries of directory `rel` in `layer`, with device numbers where whiteouts need them.
   * A lower layer's array may be the cache's own (frozen): callers must not change it.
   */
  list(layer: number, rel: string): ListedEntry[] {
    if (layer === 0) {
      const listing = this.read(0, rel);
      // Read whole: the top memo answers the lookups that follow a listing without an lstat each
      // (checked against the layer like its other answers where onStaleTop is set).
      this.top?.setListing(rel, listing);
      return listing;
    }
    if (this.filtering && this.emptied.has(rel)) return [];
    const rec = this.cache.record(layer, rel);
    return this.withoutHidden(layer, rel, rec === undefined ? this.read(layer, rel) : (rec.listing ?? this.fill(layer, rel, rec)) as ListedEntry[]);
  }

  /** List `rel` in lower `layer` into its cache record. */
  private fill(layer: number, rel: string, rec: DirRecord): readonly ListedEntry[] {
    const listing = this.read(layer, rel);
    const entries = new Map<string, ListedEntry>();
    for (const e of listing) entries.set(e.name, e);
    rec.listing = Object.freeze(listing);
    rec.entries = entries;
    this.cache.listed(rec, listing.length);
    return listing;
  }

  private withoutHidden(layer: number, rel: string, out: ListedEntry[]): ListedEntry[] {
    if (this.filtering && layer > 0) {
      const hidden = this.hidden[layer];
      if (hidden && hidden.size > 0) return out.filter((e) => !hidden.has(rel === '' ? e.name : rel + '/' + e.name));
    }
    return out;
  }

  /** readdir of `rel` in `layer`, unfiltered; [] when it is not a directory. */
  private read(layer: number, rel: string): ListedEntry[] {
    // Read through a verified descriptor, never by path: a directory swapped for a symlink after
    // the resolver saw it must not list what the symlink points to (ELOOP instead).
    let fd: number;
    try {
      fd = openVerified(this.hostPath(layer, rel), O_RDONLY | O_DIRECTORY);
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw e;
    }
    const dir = `/proc/self/fd/${fd}`;
    let out: ListedEntry[];
    try {
      const dirents: Dirent[] = host(() => readdirSync(dir, { withFileTypes: true }));
      out = new Array(dirents.length);
      for (let i = 0; i < dirents.length; i++) {
        const d = dirents[i]!;
        if (d.isCharacterDevice() || d.isBlockDevice()) {
          // Devices carry their number (a chardev 0/0 is an overlay whiteout), as entry() reports it.
          const st = lstatSync(dir + '/' + d.name, { throwIfNoEntry: false });
          out[i] = { name: d.name, kind: d.isCharacterDevice() ? 'chardev' : 'blockdev', rdev: st?.rdev ?? 0 };
        } else {
          out[i] = { name: d.name, kind: direntKind(d), rdev: 0 };
        }
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }

  private marker(layer: number, rel: string, spec: MarkerSpec): string | undefined {
    if (this.filtering && layer > 0 && (this.emptied.has(rel) || this.hidden[layer]?.has(rel))) return undefined;
    if (layer === 0) return this.top === undefined ? this.readMarker(0, rel, spec) : this.topMarker(this.top, rel, spec);
    const rec = this.cache.record(layer, rel);
    if (rec === undefined) return this.readMarker(layer, rel, spec);
    // A marker that is an entry of the directory is answered by its listing, when there is one.
    if (rec.entries !== undefined && spec.kind !== 'xattr' && !rec.entries.has(spec.name)) return undefined;
    const known = rec.markers.get(spec.name);
    if (known !== undefined) return known ?? undefined;
    const v = rec.entries !== undefined && spec.kind === 'file' ? 'y' : this.readMarker(layer, rel, spec);
    rec.markers.set(spec.name, v ?? null);
    return v;
  }

  private readMarker(layer: number, rel: string, spec: MarkerSpec): string | undefined {
    const dir = this.hostPath(layer, rel);
    switch (spec.kind) {
      case 'file':
        if (layer > 0) return this.noSymlinkEntry(layer, relJoin(rel, spec.name)) ? 'y' : undefined;
        try {
          return lstatSync(dir + '/' + spec.name, { throwIfNoEntry: false }) ? 'y' : undefined;
        } catch (e) {
          if (hostCode(e) === 'ENOTDIR') return undefined;
          return fromHost(e);
        }
      case 'symlink':
        // lstat first: a failing readlink throws, and building that error costs more than the lstat.
        try {
          if (!lstatSync(dir + '/' + spec.name, { throwIfNoEntry: false })?.isSymbolicLink()) return undefined;
        } catch (e) {
          if (hostCode(e) === 'ENOTDIR') return undefined; // asked of a file (metacopy asks any object)
          return fromHost(e);
        }
        try {
          return readlinkSync(dir + '/' + spec.name);
        } catch (e) {
          const code = hostCode(e);
          if (code === 'ENOENT' || code === 'EINVAL' || code === 'ENOTDIR') return undefined;
          return fromHost(e);
        }
      case 'xattr': {
        try {
          const v = getXattr(dir, spec.name);
          return v === undefined ? undefined : v.toString('utf8');
        } catch (e) {
          // A filesystem without xattrs cannot carry the marker.
          if ((e as { code?: string }).code === 'EOPNOTSUPP' || (e as { code?: string }).code === 'ENOTSUP') return undefined;
          throw e;
        }
      }
      default:
        throw fsError('EIO', 'unknown marker kind');
    }
  }
}

function direntKind(d: Dirent): RawEntry['kind'] {
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFIFO()) return 'fifo';
  if (d.isBlockDevice()) return 'blockdev';
  return 'socket';
}
