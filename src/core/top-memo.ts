// What a daemon remembers of its *top* layer between requests: per directory, the answers of the
// lstats made of its entries (absent ones included) and of its markers (opaque, redirect). A path
// then resolves with hash probes instead of four system calls per component (issue 11: every
// request resolves its whole path from the root). Pure: records and their invalidation only;
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
// - The top layer is nobody else's to write while the daemon serves it (as overlayfs's upper).
//   What is written behind its back anyway is dropped when the top layer's own watch reports it
//   (fs/layer-notify.ts: `changed` for every event), and a merge that rewrites the layer ends by
//   SIGUSR1, whose reload builds a new stack and so a new, empty memo (fs/setup.ts).
// - Only the daemon's HostLayers has one (fs/setup.ts): every other reader of a stack (merges,
//   exports, worldctl) reads its top layer afresh.
import type { RawEntry } from './whiteout/format.js';

/** Remembered answers about one directory of the top layer. */
class DirMemo {
  /** lstat answers for entries of the directory, by name (null: there is none). */
  readonly entries = new Map<string, RawEntry | null>();
  /** Marker values read on the directory itself, by marker name (null: no marker). */
  readonly markers = new Map<string, string | null>();
  /** The memos of subdirectories, by name: what a deep change drops with it. */
  readonly subdirs = new Map<string, DirMemo>();
  constructor(readonly rel: string, readonly parent: DirMemo | undefined, readonly name: string) {}
}

const slashOf = (rel: string) => rel.lastIndexOf('/');

/**
 * The top layer's remembered answers. `undefined` from a getter means "not known: read the
 * layer"; `null` means "read: there is none". Default contract: an answer given is what the layer
 * held when it was read, and a later `changed` of its path (or of an ancestor, `deep`) forgets it.
 */
export class TopMemo {
  private readonly dirs = new Map<string, DirMemo>();
  private items = 0;
  /** Remembered answers, for tests and SIGUSR2. */
  get size(): number {
    return this.items;
  }

  /** `maxItems`: past it everything is forgotten (a long walk must not grow the memo for good). */
  constructor(private readonly maxItems = 1 << 18) {}

  /** The remembered lstat of `rel`: a RawEntry, null (absent), or undefined (not known). */
  entry(rel: string): RawEntry | null | undefined {
    const i = slashOf(rel);
    return this.dirs.get(i < 0 ? '' : rel.slice(0, i))?.entries.get(i < 0 ? rel : rel.slice(i + 1));
  }

  setEntry(rel: string, e: RawEntry | undefined): void {
    const i = slashOf(rel);
    this.put(this.dirMemo(i < 0 ? '' : rel.slice(0, i)).entries, i < 0 ? rel : rel.slice(i + 1), e ?? null);
  }

  /** The remembered value of marker `name` on directory `rel` (null: none; undefined: not known). */
  marker(rel: string, name: string): string | null | undefined {
    return this.dirs.get(rel)?.markers.get(name);
  }

  setMarker(rel: string, name: string, value: string | undefined): void {
    this.put(this.dirMemo(rel).markers, name, value ?? null);
  }

  /**
   * The top layer's entry at `rel` was written: created, removed, replaced or renamed (`deep`: it
   * may have been or become a directory, so everything below it goes too), or with `deep` false,
   * only marked (a marker xattr set or removed on it). Its parent's markers go as well: the name
   * may be one of the parent's marker files (an opaque marker, a redirect symlink).
   */
  changed(rel: string, deep: boolean): void {
    if (rel === '') {
      // The root itself: only its markers can change (it is never replaced while served).
      if (deep) this.clear();
      else this.forgetMarkers(this.dirs.get(''));
      return;
    }
    const i = slashOf(rel);
    const parent = this.dirs.get(i < 0 ? '' : rel.slice(0, i));
    if (parent !== undefined) {
      if (parent.entries.delete(i < 0 ? rel : rel.slice(i + 1))) this.items--;
      this.forgetMarkers(parent);
    }
    const d = this.dirs.get(rel);
    if (d === undefined) return;
    if (deep) this.drop(d);
    else this.forgetMarkers(d);
  }

  /** Forget everything. */
  clear(): void {
    this.dirs.clear();
    this.items = 0;
  }

  /** The memo of directory `rel`, made (with its ancestors') when new. */
  private dirMemo(rel: string): DirMemo {
    let d = this.dirs.get(rel);
    if (d !== undefined) return d;
    if (rel === '') d = new DirMemo('', undefined, '');
    else {
      const i = slashOf(rel);
      const parent = this.dirMemo(i < 0 ? '' : rel.slice(0, i));
      const name = i < 0 ? rel : rel.slice(i + 1);
      d = new DirMemo(rel, parent, name);
      parent.subdirs.set(name, d);
    }
    this.dirs.set(rel, d);
    return d;
  }

  private forgetMarkers(d: DirMemo | undefined): void {
    if (d === undefined || d.markers.size === 0) return;
    this.items -= d.markers.size;
    d.markers.clear();
  }

  /** Forget `d` and every memo below it (the cost is what they hold). */
  private drop(d: DirMemo): void {
    d.parent?.subdirs.delete(d.name);
    const stack = [d];
    for (let x = stack.pop(); x !== undefined; x = stack.pop()) {
      this.dirs.delete(x.rel);
      this.items -= x.entries.size + x.markers.size;
      for (const s of x.subdirs.values()) stack.push(s);
    }
  }

  private put<V>(m: Map<string, V>, key: string, v: V): void {
    if (!m.has(key) && ++this.items > this.maxItems) {
      this.clear();
      return;
    }
    m.set(key, v);
  }
}
