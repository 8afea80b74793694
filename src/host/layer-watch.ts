// Who tells a daemon that a layer directory changed. `LayerWatch` is the strategy; the inotify one
// watches every directory of the given layers (Node's fs.watch: one inotify watch per directory,
// all on the process's one inotify descriptor, so events arrive in the order they happened).
import { mkdirSync, readFileSync, watch, type FSWatcher } from 'node:fs';
import { lstatSync, readdirSync } from './host-fs.js';
import { atPath } from './long-path.js';
import type { LayerEvent } from '../core/layer-change.js';
import { readMounts } from './mountinfo.js';

/** What a watch reports to. */
export interface LayerWatchSink {
  /** Entries changed (batched: one call per event-loop turn, in the order they happened). */
  changed(events: readonly LayerEvent[]): void;
  /** Directory `rel` of `layer` is now watched (at the start, or created since); `names` are its entries. */
  watching(layer: number, rel: string, names: readonly string[]): void;
  /** What was watched at and below `rel` of `layer` is not any more (removed, moved, replaced). */
  gone(layer: number, rel: string): void;
  /** Changes may go unreported from now on (a new directory past the watch budget): assume anything changed. */
  degraded(reason: string): void;
  /** File `path` appeared in the fence directory; every change reported before it was passed to `changed` already. */
  fenced?(path: string): void;
}

/**
 * A source of layer changes, reporting to the sink it was made with. Default contract: `watching`
 * and `gone` are called synchronously, in order; `changed` later, batched; after `close`, nothing.
 */
export interface LayerWatch {
  /** Whether every directory of layer i (as numbered by the caller) is watched. */
  fullyWatched(layer: number): boolean;
  /** Watches held. */
  readonly size: number;
  close(): void;
}

/** One layer to watch: its stack index, its real root, view-relative paths never walked (proc, sys, the store). */
export interface WatchedLayer {
  readonly layer: number;
  readonly root: string;
  readonly skip?: readonly string[];
  /** Give up on this layer past this many directories (a host base: walking it all costs seconds). */
  readonly maxDirs?: number;
  /**
   * Watch only these root-relative subtrees (mountpoints of filesystems another watch could not
   * take), entering them although they are mountpoints; `fullyWatched` then speaks of them alone.
   */
  readonly only?: readonly string[];
}

/** Watches per daemon: a share of the user's inotify limit, so that many daemons fit ($WORLDFS_WATCH_BUDGET overrides). */
export function watchBudget(env: NodeJS.ProcessEnv = process.env): number {
  if (env.WORLDFS_WATCH_BUDGET && /^\d+$/.test(env.WORLDFS_WATCH_BUDGET)) return Number(env.WORLDFS_WATCH_BUDGET);
  let limit = 8192;
  try {
    limit = Number(readFileSync('/proc/sys/fs/inotify/max_user_watches', 'utf8').trim()) || limit;
  } catch { /* no procfs: keep the kernel's usual minimum */ }
  return Math.max(256, Math.min(65536, Math.floor(limit / 16)));
}

const join = (dir: string, name: string) => (dir === '' ? name : dir + '/' + name);
const hostOf = (root: string, rel: string) => (rel === '' ? root : root === '/' ? '/' + rel : root + '/' + rel);

/** A directory's identity (device, inode, birth time): another directory at the path has another. Undefined: none there. */
function identityOf(path: string): string | undefined {
  try {
    const st = lstatSync(path, { bigint: true, throwIfNoEntry: false });
    return st?.isDirectory() && st.birthtimeNs !== 0n ? `${st.dev}:${st.ino}:${st.birthtimeNs}` : undefined;
  } catch {
    return undefined;
  }
}

/** How InotifyLayerWatch walks and what else it watches. */
export interface WatchOptions {
  /** Names of directories never entered (a work directory). */
  readonly isInternal?: (name: string) => boolean;
  /** Host paths never walked into (the daemon's own mountpoint: reading it would deadlock). */
  readonly never?: readonly string[];
  /** At most this many watches (default watchBudget()). */
  readonly budget?: number;
  /**
   * A directory whose new files are fences: reported (`fenced`) in order with the layers' events.
   * inotify queues all of one process's events in one queue, in the order they happened, so a
   * fence created after a layer change is reported after it.
   */
  readonly fence?: string;
}

/** Every directory of the layers, one fs.watch each, up to `budget`; a layer that does not fit is not watched. */
export class InotifyLayerWatch implements LayerWatch {
  /** "layer\0rel" -> watcher. */
  private readonly watchers = new Map<string, FSWatcher>();
  /** "layer\0rel" -> the identity of the directory its watcher is on, when known for sure (identityOf). */
  private readonly identities = new Map<string, string>();
  private readonly complete = new Set<number>();
  private readonly roots = new Map<number, WatchedLayer>();
  /** Layer events and fences (layer -1, name: the fence file's path) in the order they came. */
  private pending: LayerEvent[] = [];
  private flushQueued = false;
  private closed = false;
  /** Watches taken per layer so far (never decremented: a bound on walking, not a count). */
  private readonly perLayer = new Map<number, number>();
  /** Mountpoints below the layers: never walked into (another filesystem, maybe our own mount). */
  private mounts = new Set<string>();
  private readonly isInternal: (name: string) => boolean;
  private readonly budget: number;

  /**
   * Walk and watch `layers` now (highest priority first: a layer that passes the remaining budget,
   * or cannot be watched, is left unwatched). `isInternal` names (a work directory) are not entered.
   */
  constructor(layers: readonly WatchedLayer[], private readonly sink: LayerWatchSink, private readonly opts: WatchOptions = {}) {
    this.isInternal = opts.isInternal ?? (() => false);
    this.budget = opts.budget ?? watchBudget();
    this.refreshMounts();
    for (const l of layers) {
      this.roots.set(l.layer, l);
      if ((l.only ?? ['']).every((rel) => this.walk(l, rel))) this.complete.add(l.layer);
      else this.unwatchLayer(l.layer);
    }
    if (opts.fence !== undefined) this.watchFence(opts.fence);
  }

  private watchFence(dir: string): void {
    try {
      // Not recursive: a fence directory whose parent is gone (a merged world's) is not made again.
      try { mkdirSync(dir, { mode: 0o700 }); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
      const w = watch(dir, { persistent: false }, (_type, name) => {
        if (this.closed || name === null) return;
        this.pending.push({ layer: -1, dir: '', name: dir + '/' + name });
        this.queueFlush();
      });
      w.on('error', () => w.close());
      this.watchers.set('fence', w);
    } catch (e) {
      process.stderr.write(`worldfs: cannot watch the fence directory ${dir}: ${(e as Error).message}\n`);
    }
  }

  get size(): number {
    return this.watchers.size;
  }

  /** The most watches this instance takes. */
  get limit(): number {
    return this.budget;
  }

  fullyWatched(layer: number): boolean {
    return this.complete.has(layer);
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.pending = [];
  }

  /**
   * Watch directory `rel` of `l` and everything below; false when the budget or the kernel refused
   * one. `report`: a directory that appeared while mounted — whatever was made in it before its
   * watch was (its events went nowhere) is reported as changed, entry by entry.
   */
  private walk(l: WatchedLayer, rel: string, report = false): boolean {
    const path = hostOf(l.root, rel);
    if (rel !== '' && ((this.mounts.has(path) && !l.only?.includes(rel)) || l.skip?.includes(rel))) return true;
    const key = `${l.layer}\0${rel}`;
    if (!this.watchers.has(key)) {
      if (this.watchers.size >= this.budget) return false;
      if (l.maxDirs !== undefined && (this.perLayer.get(l.layer) ?? 0) >= l.maxDirs) return false;
      this.perLayer.set(l.layer, (this.perLayer.get(l.layer) ?? 0) + 1);
      let w: FSWatcher;
      const before = identityOf(path);
      try {
        // A watch is on the inode: it outlives the descriptor a long path was reached through.
        w = atPath(path, (p) => watch(p, { persistent: false }, (type, name) => this.event(l.layer, rel, name, type === 'change')));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return code === 'ENOENT' || code === 'ENOTDIR'; // gone meanwhile: its parent's event says so
      }
      w.on('error', () => this.drop(key));
      this.watchers.set(key, w);
      // The same directory before and after the watch was taken: the watch is on it.
      if (before !== undefined && identityOf(path) === before) this.identities.set(key, before);
    }
    let names: string[];
    let dirs: string[];
    try {
      const entries = readdirSync(path, { withFileTypes: true });
      names = entries.map((d) => d.name);
      dirs = entries.filter((d) => d.isDirectory() && !this.isInternal(d.name)).map((d) => d.name);
    } catch {
      return true; // gone or replaced meanwhile: its parent's event says so
    }
    this.sink.watching(l.layer, rel, names);
    if (report) for (const name of names) this.pending.push({ layer: l.layer, dir: rel, name });
    for (const d of dirs) if (!this.walk(l, join(rel, d), report)) return false;
    return true;
  }

  /**
   * `change`: IN_MODIFY or IN_ATTRIB (Node's 'change'); otherwise a create, delete or move
   * ('rename'), or an attribute change of a directory: libuv reports IN_ATTRIB|IN_ISDIR as a
   * rename too. A 'rename' of a watched directory that is still the same directory (inode and
   * birth time, as when its watch was taken) is such a change, and keeps its watches.
   */
  private event(layer: number, dir: string, name: string | null, change: boolean): void {
    if (this.closed || name === null) return;
    const rel = join(dir, name);
    const l = this.roots.get(layer)!;
    const path = hostOf(l.root, rel);
    const watchKey = `${layer}\0${rel}`;
    const known = change || this.mounts.has(path) ? undefined : this.identities.get(watchKey);
    if (known !== undefined && identityOf(path) === known) change = true;
    // A directory created, removed or moved: its watches follow (a moved directory's watch would
    // keep reporting under the old name).
    if (!change) this.dropUnder(layer, rel); // written or chmod'ed: the same object, same watches
    let isDir = false;
    let key: string | undefined;
    try {
      // Never lstat a mountpoint (another FUSE server, or ours: a deadlock).
      if (!this.mounts.has(path)) {
        const st = lstatSync(path);
        isDir = st.isDirectory();
        if (change && !isDir && st.nlink > 1) key = `${st.dev}:${st.ino}`;
      }
    } catch { /* gone */ }
    if (isDir && !change) this.refreshMounts(); // a mount made since the walk must not be entered
    // The directory's own event first, then (walk) what was made in it before it was watched.
    // A directory's attributes may be its markers (overlay xattrs): only a non-directory's change is content only.
    this.pending.push(!change || isDir ? { layer, dir, name } : key === undefined ? { layer, dir, name, contentOnly: true } : { layer, dir, name, contentOnly: true, key });
    if (isDir && !change && !this.isInternal(name) && this.watchers.has(`${layer}\0${dir}`) && !this.walk(l, rel, true) && this.complete.delete(layer)) {
      this.sink.degraded(`more directories than the watch budget (${this.budget}) in layer ${l.root}`);
    }
    this.queueFlush();
  }

  private refreshMounts(): void {
    this.mounts = new Set([...readMounts().map((m) => m.mountpoint), ...(this.opts.never ?? [])]);
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    setImmediate(() => {
      this.flushQueued = false;
      if (this.closed || this.pending.length === 0) return;
      const all = this.pending;
      this.pending = [];
      let batch: LayerEvent[] = [];
      for (const e of all) {
        if (e.layer >= 0) {
          batch.push(e);
          continue;
        }
        if (batch.length > 0) this.sink.changed(batch);
        batch = [];
        this.sink.fenced?.(e.name);
      }
      if (batch.length > 0) this.sink.changed(batch);
    });
  }

  private dropUnder(layer: number, rel: string): void {
    const prefix = `${layer}\0${rel}`;
    // Only a watched directory has watched ones below it (a walk watches parents first): a file's
    // event (the common case: every write) costs one lookup, not a scan of every watch.
    if (this.watchers.has(prefix)) for (const k of this.watchers.keys()) if (k === prefix || k.startsWith(prefix + '/')) this.drop(k);
    this.sink.gone(layer, rel);
  }

  private unwatchLayer(layer: number): void {
    for (const k of this.watchers.keys()) if (k.startsWith(`${layer}\0`)) this.drop(k);
    this.sink.gone(layer, '');
  }

  private drop(key: string): void {
    this.watchers.get(key)?.close();
    this.watchers.delete(key);
    this.identities.delete(key);
  }
}
