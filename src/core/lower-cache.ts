// What the daemon remembers about the *lower* layers between requests: the listings its readdirs
// made and the markers it read (so a lookup after a readdir is a hash probe per layer), and the
// resolutions built from them (so a path below a deep merged directory costs the same as in one
// layer). A lookup never lists its parent directory to fill a record: in a directory of n entries
// that made n lookups read n² entries whenever records lived a short time (issue 11).
// Pure: records, lifetimes and bounds; src/host/layer-probe.ts and resolve.ts use them.
// Only lower layers are cached: nothing done through the view writes them, so the only changes to
// miss are the ones made behind the mount's back, which the udba=/timeout= contract bounds.
import type { ListedEntry } from './listing.js';
import type { ChildLookup, ViewNode } from './resolve.js';

/** What is known about one directory of one lower layer (all of it read in one generation). */
export class DirRecord {
  /** The directory's entries by name, once a readdir has listed it; undefined before. */
  entries: Map<string, ListedEntry> | undefined;
  /** The same entries as listed (readdir order), for the view's readdir. */
  listing: readonly ListedEntry[] | undefined;
  /** Marker values read from the directory itself, by marker name (null: no marker). */
  readonly markers = new Map<string, string | null>();
  /** The generation the record belongs to (opaque to users). */
  constructor(readonly owner: object) {}
}

/**
 * Resolutions within the lower layers (layers 1..n), reused between requests. A "lower node" is a
 * ViewNode whose branches are all below the top layer, interned here so that its children can be
 * remembered; the resolver keeps which lower node each view node it built continues into.
 */
export interface ResolveMemo {
  /** The interned lower part of `node`: null when it has none, undefined when not known here. */
  lowerOf(node: ViewNode): ViewNode | null | undefined;
  setLowerOf(node: ViewNode, lower: ViewNode | null): void;
  /** The remembered lookup of `name` in the interned lower node `dir`. */
  child(dir: ViewNode, name: string): ChildLookup | undefined;
  setChild(dir: ViewNode, name: string, r: ChildLookup): void;
  /** The interned root of the stack of layers fromLayer..n. */
  root(fromLayer: number): ViewNode | undefined;
  setRoot(fromLayer: number, node: ViewNode): void;
}

/**
 * Everything the daemon keeps about lower layers. All records and resolutions belong to one
 * generation, which ends as a whole: when its lifetime is over (so nothing is older than it), when
 * it grows past its bound, or on `clear`. Default contract of every implementation: nothing is
 * answered from a generation older than the lifetime it was made with.
 */
export interface LowerCache {
  /**
   * The record of directory `rel` in lower `layer` (made empty when new), or undefined: no caching
   * (also whenever the lifetime is 0: a record that ends at once would only cost its reading).
   */
  record(layer: number, rel: string): DirRecord | undefined;
  /** Note that `rec` now holds a listing of `names` entries (the size bound counts them). */
  listed(rec: DirRecord, names: number): void;
  /** The current generation's resolutions, or undefined: no caching (lifetime 0 included). */
  memo(): ResolveMemo | undefined;
  /** End the generation: everything is read again. */
  clear(): void;
  /**
   * Directory `rel` of lower `layer` changed (an entry added, removed or replaced), or with `deep`
   * was itself replaced: its records (and, with `deep`, those below it) are read again. The
   * generation's resolutions are dropped as a whole (they are rebuilt from the records that remain).
   */
  changed(layer: number, rel: string, deep: boolean): void;
  /** From now on, no generation outlives `ttlMs` (changes stopped being reported: the time bound is back). */
  limit(ttlMs: number): void;
}

/** Caches nothing: every question goes to the layers (timeout=0, or a caller without a daemon). */
export const NO_LOWER_CACHE: LowerCache = {
  record: () => undefined,
  listed: () => {},
  memo: () => undefined,
  clear: () => {},
  changed: () => {},
  limit: () => {},
};

export interface TimedCacheOptions {
  /** How long a generation lives, in ms; Infinity for udba=none. */
  readonly ttlMs: number;
  /** Listed names plus remembered lookups per generation; past it the generation ends (default DEFAULT_MAX_ITEMS). */
  readonly maxItems?: number;
  /** The clock, in ms (tests pass their own). */
  readonly now?: () => number;
  /**
   * With a lifetime of 0: the id of the current turn of the caller's event loop (the host supplies
   * it: src/host/loop-turn.ts). A generation then lasts one turn, so one request (a READDIRPLUS and
   * the lookups of its entries, a path's components) reads each directory once, and nothing read
   * in one request answers a later one. Without it, a lifetime of 0 caches nothing.
   */
  readonly turn?: () => number;
}

class Generation implements ResolveMemo {
  readonly records = new Map<number, Map<string, DirRecord>>();
  children = new Map<ViewNode, Map<string, ChildLookup>>();
  roots = new Map<number, ViewNode>();
  lower = new WeakMap<ViewNode, ViewNode | null>();
  items = 0;
  constructor(readonly at: number, readonly turn: number, private readonly full: (g: Generation) => void) {}

  lowerOf(node: ViewNode): ViewNode | null | undefined {
    return this.lower.get(node);
  }
  setLowerOf(node: ViewNode, lower: ViewNode | null): void {
    this.lower.set(node, lower);
  }
  child(dir: ViewNode, name: string): ChildLookup | undefined {
    return this.children.get(dir)?.get(name);
  }
  setChild(dir: ViewNode, name: string, r: ChildLookup): void {
    let m = this.children.get(dir);
    if (m === undefined) this.children.set(dir, (m = new Map()));
    m.set(name, r);
    if (r.kind === 'found' && r.node.entry.kind === 'dir') this.lower.set(r.node, r.node);
    this.add(1);
  }
  root(fromLayer: number): ViewNode | undefined {
    return this.roots.get(fromLayer);
  }
  setRoot(fromLayer: number, node: ViewNode): void {
    this.roots.set(fromLayer, node);
    this.lower.set(node, node);
  }
  add(n: number): void {
    this.items += n;
    this.full(this);
  }
  /** Forget records at `rel` of `layer` (and below it with `deep`), and every resolution. */
  forget(layer: number, rel: string, deep: boolean): void {
    const recs = this.records.get(layer);
    if (recs !== undefined) {
      if (deep && rel === '') recs.clear();
      else {
        recs.delete(rel);
        if (deep) for (const k of recs.keys()) if (k.startsWith(rel + '/')) recs.delete(k);
      }
    }
    this.children = new Map();
    this.roots = new Map();
    this.lower = new WeakMap();
  }
}

/**
 * The default bound of a generation: ~320 B of heap an item, so ~20 MiB at most. A `find /` in a
 * world over / (423k entries) grew the daemon's heap by 180 MB under a bound of 2M; under 250k, a
 * cold `find` of /usr (138k entries) held 80 MB in one generation until it ended (the heap went
 * from 130 to 50 MB at that collection), and the daemon's peak was 227 MiB against 170 MiB under
 * 64k, in the same time (9.0 and 8.4 s) and with the same warm walk after (1.4 and 1.3 s). Past
 * the bound the generation ends and what is asked again is read again, while the kernel, which
 * caches what the daemon answered (notify=), asks again only for what it dropped.
 */
export const DEFAULT_MAX_ITEMS = 65_536;

/**
 * One generation at a time, ending `ttlMs` after it began (with 0 and a `turn`: when the turn ends)
 * or when it holds more than `maxItems`.
 */
export class TimedLowerCache implements LowerCache {
  private ttlMs: number;
  private readonly maxItems: number;
  private readonly now: () => number;
  private readonly turn: (() => number) | undefined;
  private gen: Generation;
  /** Generations begun so far (for tests and diagnostics). */
  generations = 1;

  constructor(opts: TimedCacheOptions) {
    this.ttlMs = opts.ttlMs;
    this.maxItems = opts.maxItems ?? DEFAULT_MAX_ITEMS;
    this.now = opts.now ?? (() => performance.now());
    this.turn = opts.turn;
    this.gen = this.fresh();
  }

  record(layer: number, rel: string): DirRecord | undefined {
    if (!this.caching()) return undefined;
    const g = this.current();
    let recs = g.records.get(layer);
    if (recs === undefined) g.records.set(layer, (recs = new Map()));
    let r = recs.get(rel);
    if (r === undefined) recs.set(rel, (r = new DirRecord(g)));
    return r;
  }

  listed(rec: DirRecord, names: number): void {
    // A record of an ended generation counts for nothing (its generation is gone).
    if (rec.owner === this.gen) this.gen.add(names);
  }

  memo(): ResolveMemo | undefined {
    return this.caching() ? this.current() : undefined;
  }

  clear(): void {
    this.gen = this.fresh();
  }

  changed(layer: number, rel: string, deep: boolean): void {
    this.gen.forget(layer, rel, deep);
  }

  limit(ttlMs: number): void {
    this.ttlMs = Math.min(this.ttlMs, ttlMs);
  }

  /** Whether anything is kept: a lifetime, or with none, a turn to keep it for. */
  private caching(): boolean {
    return this.ttlMs > 0 || this.turn !== undefined;
  }

  private current(): Generation {
    const ended = this.ttlMs > 0 ? this.now() - this.gen.at >= this.ttlMs : this.turn!() !== this.gen.turn;
    if (ended) this.gen = this.fresh();
    return this.gen;
  }

  private fresh(): Generation {
    this.generations++;
    return new Generation(this.now(), this.turn?.() ?? 0, (g) => {
      if (g === this.gen && g.items > this.maxItems) this.gen = this.fresh();
    });
  }
}

/**
 * How long the kernel and the daemon may each keep what they learnt, for a mount's udba= and
 * timeout= (seconds). A lower-layer change must show within `timeout`: the kernel's entry cache
 * and the daemon's lower cache add up, so each gets half. With udba=none lower layers are promised
 * never to change: the daemon keeps its generation for the life of the stack.
 */
export function cacheBudget(udba: 'reval' | 'none', timeoutSeconds: number): { kernelSeconds: number; daemonMs: number } {
  const half = timeoutSeconds / 2;
  return { kernelSeconds: half, daemonMs: timeoutSeconds <= 0 ? 0 : udba === 'none' ? Infinity : half * 1000 };
}

/**
 * The lower cache a daemon with these options uses. With a budget of 0 it keeps what one turn of
 * the event loop read when given `turn`, and is NO_LOWER_CACHE otherwise.
 */
export function lowerCacheFor(udba: 'reval' | 'none', timeoutSeconds: number, clock: { now?: () => number; turn?: () => number } = {}): LowerCache {
  const { daemonMs } = cacheBudget(udba, timeoutSeconds);
  if (daemonMs <= 0 && clock.turn === undefined) return NO_LOWER_CACHE;
  return new TimedLowerCache({ ttlMs: daemonMs, ...(clock.now ? { now: clock.now } : {}), ...(clock.turn ? { turn: clock.turn } : {}) });
}
