// What a daemon remembers of its *top* layer between requests: per directory, the answers of the
// lstats made of its entries (absent ones included) and of its markers (opaque, redirect), and the
// view's directories resolved through them (their nodes). A request then resolves its path with a
// walk of hash probes instead of four system calls per component (issue 11: every request
// resolves its whole path from the root). Pure: records and their invalidation only;
// src/host/layer-probe.ts reads through it, src/host/layer-writer.ts reports the writes.
//
// Exact, not timed. What invalidates it, and why nothing else can change an answer in it:
// - Every write the daemon makes to its top layer reports the layer-relative path it wrote
//   (`changed`), after making it and before the next request reads: LayerWriter does it for the
//   names it creates, renames, removes and marks, and for the entries made in place (placeNew).
//   A write that may have replaced a directory (created, removed, renamed, made from a copy)
//   is `deep`: everything remembered below it goes too. Attribute-only writes (chmod, chown,
//   utimens, user xattrs, file data) change no entry kind, no name and no marker, so they report
//   nothing; a format's xattr markers are written by LayerWriter's set-xattr/remove-xattr ops.
// - A directory node depends on the top layer only along its own path (each component's entry,
//   its whiteout marker in the parent, its opaque and redirect markers: resolve.ts reads nothing
//   else there; a redirect's target is looked up in the lower layers). So a write at `d/n` makes
//   the nodes at and below `d/n` unknown, or, when `n` is a marker name, those at and below `d`.
//   Lower layers are the lower cache's (lower-cache.ts): the resolver uses a node only while the
//   lower memo it was built with still knows it (a lower change drops those resolutions).
// - A directory read whole (`setListing`) answers "absent" for every name its listing lacks, until
//   a write at any of its names (`changed`) or to itself (`deep`) makes it partial again: a lookup
//   after a listing (ls -l, a READDIRPLUS's entries, man-db's scan) costs no lstat of the top layer.
// - Other writers of the top layer: the daemons of a merged world's aliases serve the same stack,
//   a merge rewrites the layer (and ends by SIGUSR1, whose reload builds a new stack and so a new,
//   empty memo). What they write is dropped when the top layer's own watch reports it
//   (fs/layer-notify.ts: `changed` for every event; worldctl's fences pass that watch too). Where
//   nothing reports them (notify=none, rootless, a watch past its budget), answers live no longer
//   than the mount's time bound for lower layers (`bound`: timeout=/2, one request with timeout=0),
//   as what is written behind a view's back shows within timeout= (lower-cache.ts, cacheBudget).
// - Only the daemon's HostLayers has one (fs/setup.ts): every other reader of a stack (merges,
//   exports, worldctl) reads its top layer afresh.
import { detached } from './detached-string.js';
import type { RawEntry } from './whiteout/format.js';

/** Remembered answers about one directory of the top layer (or of the view, for its node). */
class DirMemo<N> {
  /** lstat answers for entries of the directory, by name (null: there is none). */
  readonly entries = new Map<string, RawEntry | null>();
  /**
   * Marker values read on the directory itself, by marker name (null: no marker): an entry name
   * for markers kept as entries of the directory, an xattr name for those kept on it.
   */
  readonly markers = new Map<string, string | null>();
  /** `entries` holds every entry the directory had when it was listed: a name it lacks is absent. */
  listed = false;
  /** The memos of subdirectories, by name: what a deep change drops with it. */
  readonly subdirs = new Map<string, DirMemo<N>>();
  /** The view's node of this directory, remembered at tick `nodeAt`. */
  node: N | undefined;
  nodeAt = 0;
  /** The tick at which every node at and below this directory was last made unknown. */
  cutAt = 0;
  constructor(readonly rel: string, readonly parent: DirMemo<N> | undefined, readonly name: string) {}
}

const slashOf = (rel: string) => rel.lastIndexOf('/');

/** How long answers live when the top layer's other writers go unreported (see `bound`). */
export interface TopMemoBound {
  /** Lifetime in ms; 0: one turn of the event loop (`turn`); Infinity: no bound. */
  readonly ttlMs: number;
  readonly now: () => number;
  /** The current turn of the caller's event loop (src/host/loop-turn.ts). */
  readonly turn: () => number;
}

export interface TopMemoOptions {
  /** Past this many remembered answers and directories everything is forgotten (a long walk must not grow it for good). */
  readonly maxItems?: number;
  /** The most entries a listing may have to be remembered whole (default 8,192; at most maxItems/4). */
  readonly maxListing?: number;
  /**
   * Names that are the format's markers in their directory (aufs: `.wh.*`): writing one may change
   * how the directory itself resolves (opaque, redirect) or a sibling (whiteout). Default: none
   * (formats whose markers are xattrs, or whiteouts in place of the entry).
   */
  readonly isMarker?: (name: string) => boolean;
}

/**
 * The top layer's remembered answers. `undefined` from a getter means "not known: read the
 * layer"; `null` means "read: there is none". Default contract: an answer given is what the layer
 * held when it was read, and a later `changed` of its path (or of an ancestor, `deep`) forgets it.
 * `N`: the resolver's node type (kept, never looked into).
 */
export class TopMemo<N = unknown> {
  private readonly dirs = new Map<string, DirMemo<N>>();
  private items = 0;
  private tick = 0;
  private readonly maxItems: number;
  private readonly isMarker: (name: string) => boolean;
  private limit: TopMemoBound | undefined;
  /** When (ms, turn) what is remembered began, under a bound. */
  private since = 0;
  private turnAt = 0;

  /** The largest listing `setListing` keeps (a bigger one is answered name by name, as before). */
  private readonly maxListing: number;

  constructor(opts: TopMemoOptions = {}) {
    this.maxItems = opts.maxItems ?? 1 << 17;
    this.maxListing = Math.min(opts.maxListing ?? 1 << 13, this.maxItems >> 2);
    this.isMarker = opts.isMarker ?? (() => false);
  }

  /**
   * From now on, forget everything `b.ttlMs` after it began to be remembered (with 0, when the
   * event loop turns): writes to the top layer made behind the daemon's back are not reported.
   * Default: no bound (every change is reported).
   */
  bound(b: TopMemoBound): void {
    this.limit = b.ttlMs === Infinity ? undefined : b;
    this.clear();
  }

  /** Remembered answers, nodes and directories, for tests and SIGUSR2. */
  get size(): number {
    return this.items;
  }

  /** The remembered lstat of `rel`: a RawEntry, null (absent), or undefined (not known). */
  entry(rel: string): RawEntry | null | undefined {
    if (this.limit !== undefined) this.expire(this.limit);
    const i = slashOf(rel);
    const d = this.dirs.get(i < 0 ? '' : rel.slice(0, i));
    if (d === undefined) return undefined;
    const e = d.entries.get(i < 0 ? rel : rel.slice(i + 1));
    return e === undefined && d.listed ? null : e;
  }

  /**
   * The top layer's directory `rel` was read whole: `entries` is all it has (none: it is missing,
   * or not a directory). Each becomes a remembered answer, and every other name is absent until a
   * write in the directory is reported. A listing past maxListing is not remembered.
   */
  setListing(rel: string, entries: readonly (RawEntry & { readonly name: string })[]): void {
    if (entries.length > this.maxListing || this.items + entries.length + 64 > this.maxItems) return;
    const d = this.dirMemo(rel);
    if (d === undefined) return;
    // The listing replaces what was remembered of the directory's entries: it is the newer answer.
    this.items -= d.entries.size;
    d.entries.clear();
    for (const e of entries) d.entries.set(e.name, { kind: e.kind, rdev: e.rdev }); // a listing's names are strings of their own
    this.items += d.entries.size;
    d.listed = true;
  }

  setEntry(rel: string, e: RawEntry | undefined): void {
    const i = slashOf(rel);
    const d = this.dirMemo(i < 0 ? '' : rel.slice(0, i));
    if (d !== undefined) this.put(d.entries, i < 0 ? rel : rel.slice(i + 1), e ?? null);
  }

  /** The remembered value of marker `name` on directory `rel` (null: none; undefined: not known). */
  marker(rel: string, name: string): string | null | undefined {
    if (this.limit !== undefined) this.expire(this.limit);
    return this.dirs.get(rel)?.markers.get(name);
  }

  setMarker(rel: string, name: string, value: string | undefined): void {
    const d = this.dirMemo(rel);
    if (d !== undefined) this.put(d.markers, name, value ?? null);
  }

  /**
   * The deepest directory among `names[0..i)`, i <= `upTo`, whose node is remembered and still
   * known (nothing reported written at or above it since): the node and its depth i (0: the root).
   */
  deepest(names: readonly string[], upTo: number): { node: N; depth: number } | undefined {
    if (this.limit !== undefined) this.expire(this.limit);
    let d = this.dirs.get('');
    if (d === undefined) return undefined;
    let cut = d.cutAt;
    let best: N | undefined = d.node !== undefined && d.nodeAt > cut ? d.node : undefined;
    let depth = 0;
    for (let i = 0; i < upTo; i++) {
      d = d.subdirs.get(names[i]!);
      if (d === undefined) break;
      if (d.cutAt > cut) cut = d.cutAt;
      if (d.node !== undefined && d.nodeAt > cut) {
        best = d.node;
        depth = i + 1;
      }
    }
    return best === undefined ? undefined : { node: best, depth };
  }

  /** Remember `node`, the view's directory at `names[0..depth)`. */
  remember(names: readonly string[], depth: number, node: N): void {
    let d = this.dirMemo('');
    for (let i = 0; i < depth && d !== undefined; i++) {
      const name = names[i]!;
      d = d.subdirs.get(name) ?? this.dirMemo(d.rel === '' ? name : d.rel + '/' + name);
    }
    if (d === undefined) return;
    if (d.node === undefined && !this.count()) return;
    d.node = node;
    d.nodeAt = ++this.tick;
  }

  /**
   * The top layer's entry at `rel` was written: created, removed, replaced or renamed (`deep`: it
   * may have been or become a directory, so everything below it goes too), or with `deep` false,
   * only marked (a marker xattr set or removed on it). When the name is one of the parent's marker
   * entries (an opaque marker file, a redirect symlink), that marker goes as well. Nodes: those at
   * and below `rel` become unknown, or at and below its parent when the name is a marker name.
   */
  changed(rel: string, deep: boolean): void {
    if (rel === '') {
      // The root itself: only its markers can change (it is never replaced while served).
      if (deep) this.clear();
      else this.cut(this.dirs.get(''), true);
      return;
    }
    const i = slashOf(rel);
    const name = i < 0 ? rel : rel.slice(i + 1);
    const parent = this.dirs.get(i < 0 ? '' : rel.slice(0, i));
    if (parent !== undefined) {
      parent.listed = false; // the name may be new: the listing no longer answers for absent names
      if (parent.entries.delete(name)) this.items--;
      // A marker kept as an entry of the directory is remembered under its entry name.
      if (parent.markers.delete(name)) this.items--;
      if (this.isMarker(name)) this.cut(parent, false);
    }
    const d = this.dirs.get(rel);
    if (d === undefined) return;
    if (deep) this.drop(d);
    else this.cut(d, true);
  }

  /** Forget everything. */
  clear(): void {
    this.dirs.clear();
    this.items = 0;
    if (this.limit !== undefined) {
      this.since = this.limit.now();
      this.turnAt = this.limit.turn();
    }
  }

  /** Under a bound: forget everything once its lifetime is over. */
  private expire(b: TopMemoBound): void {
    if (b.ttlMs > 0 ? b.now() - this.since >= b.ttlMs : b.turn() !== this.turnAt) this.clear();
  }

  /** Nodes at and below `d` become unknown (and with `markers`, `d`'s markers are forgotten). */
  private cut(d: DirMemo<N> | undefined, markers: boolean): void {
    if (d === undefined) return;
    d.cutAt = ++this.tick;
    if (!markers || d.markers.size === 0) return;
    this.items -= d.markers.size;
    d.markers.clear();
  }

  /** The memo of directory `rel`, made (with its ancestors') when new; undefined when full. */
  private dirMemo(rel: string): DirMemo<N> | undefined {
    let d = this.dirs.get(rel);
    if (d !== undefined) return d;
    let parent: DirMemo<N> | undefined;
    let name = '';
    if (rel !== '') {
      const i = slashOf(rel);
      parent = this.dirMemo(i < 0 ? '' : rel.slice(0, i));
      if (parent === undefined) return undefined;
      name = i < 0 ? rel : rel.slice(i + 1);
    }
    if (!this.count()) return undefined;
    d = new DirMemo<N>(rel, parent, name);
    parent?.subdirs.set(name, d);
    this.dirs.set(rel, d);
    return d;
  }

  /** Forget `d` and every memo below it (the cost is what they hold). */
  private drop(d: DirMemo<N>): void {
    d.parent?.subdirs.delete(d.name);
    const stack = [d];
    for (let x = stack.pop(); x !== undefined; x = stack.pop()) {
      this.dirs.delete(x.rel);
      this.items -= 1 + x.entries.size + x.markers.size + (x.node !== undefined ? 1 : 0);
      for (const s of x.subdirs.values()) stack.push(s);
    }
  }

  private put<V>(m: Map<string, V>, key: string, v: V): void {
    if (m.has(key)) m.set(key, v);
    else if (this.count()) m.set(detached(key), v);
  }

  /** Count one more item; false (and everything forgotten) past the bound. */
  private count(): boolean {
    if (++this.items <= this.maxItems) return true;
    this.clear();
    return false;
  }
}
