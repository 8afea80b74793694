// Who tells a daemon that a layer directory changed. `LayerWatch` is the strategy; the inotify one
// watches every directory of the given layers (on the process's inotify descriptor, src/host/inotify.ts:
// events arrive in the order they happened, many per read, with the mask each layer needs).
import { mkdirSync, readdirSync as readdirNames, readFileSync } from 'node:fs';
import { lstatSync, readdirNoAtime } from './host-fs.js';
import { DT } from './syscalls.js';
import { atPath } from './long-path.js';
import type { LayerEvent } from '../core/layer-change.js';
import { IN, Inotify, NAME_EVENTS, type InotifyEvent } from './inotify.js';
import { readMounts } from './mountinfo.js';

/** Events that bring a name into a directory. */
const ARRIVALS = IN.CREATE | IN.MOVED_TO;

/** What a watch reports to. */
export interface LayerWatchSink {
  /** Entries changed (batched: one call per read of the watch's events, in the order they happened). */
  changed(events: readonly LayerEvent[]): void;
  /** Directory `rel` of `layer` is now watched (at the start, or created since); `names` are its entries. */
  watching(layer: number, rel: string, names: readonly string[]): void;
  /** What was watched at and below `rel` of `layer` is not any more (removed, moved, replaced). */
  gone(layer: number, rel: string): void;
  /** Changes may go unreported from now on (a new directory past the watch budget): assume anything changed. */
  degraded(reason: string): void;
  /**
   * Changes went unreported (the kernel's event queue overflowed), and what is watched was walked
   * again since: assume anything changed, once. Called after every change reported before the loss.
   */
  lost?(): void;
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
  /**
   * Which changes of its entries are reported (default `all`): `names` only (created, removed,
   * moved), with `attributes` (chmod, chown, times, xattrs) too, or `all` (writes as well).
   */
  readonly events?: 'all' | 'attributes' | 'names';
}

/** The inotify mask for a layer's directories: names always, then what `events` asks. */
function maskOf(l: WatchedLayer): number {
  const names = NAME_EVENTS | IN.ONLYDIR | IN.EXCL_UNLINK;
  return l.events === 'names' ? names : l.events === 'attributes' ? names | IN.ATTRIB : names | IN.ATTRIB | IN.MODIFY;
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

/** Every directory of the layers, one inotify watch each, up to `budget`; a layer that does not fit is not watched. */
export class InotifyLayerWatch implements LayerWatch {
  /** Undefined when the process could get no inotify descriptor: nothing is watched. */
  private readonly inotify: Inotify | undefined;
  /** "layer\0rel" (or "fence") -> its watch descriptor. */
  private readonly watchers = new Map<string, number>();
  /** Watch descriptor -> the keys it serves (one inode reached twice shares one descriptor). */
  private readonly byWd = new Map<number, string[]>();
  private readonly complete = new Set<number>();
  private readonly roots = new Map<number, WatchedLayer>();
  /** Layer events and fences (layer -1, name: the fence file's path) in the order they came. */
  private pending: LayerEvent[] = [];
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
    try {
      this.inotify = new Inotify((events) => this.events(events));
    } catch (e) {
      process.stderr.write(`worldfs: notify: no inotify descriptor (${(e as Error).message})\n`);
    }
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
      if (this.inotify !== undefined) this.addKey('fence', this.inotify.add(dir, IN.CREATE | IN.MOVED_TO | IN.ONLYDIR));
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
    this.inotify?.close();
    this.watchers.clear();
    this.byWd.clear();
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
      if (this.inotify === undefined || this.watchers.size >= this.budget) return false;
      if (l.maxDirs !== undefined && (this.perLayer.get(l.layer) ?? 0) >= l.maxDirs) return false;
      this.perLayer.set(l.layer, (this.perLayer.get(l.layer) ?? 0) + 1);
      let wd: number;
      try {
        // A watch is on the inode: it outlives the descriptor a long path was reached through.
        wd = atPath(path, (p) => this.inotify!.add(p, maskOf(l)));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        return code === 'ENOENT' || code === 'ENOTDIR'; // gone meanwhile: its parent's event says so
      }
      this.addKey(key, wd);
    }
    let names: string[];
    let dirs: string[];
    try {
      // O_NOATIME: this walk is the daemon's, not a reader's; it must not move the directory's atime.
      const entries = readdirNoAtime(path);
      names = [];
      dirs = [];
      for (let i = 0; i < entries.length; i += 2) {
        const name = entries[i] as string;
        names.push(name);
        const type = entries[i + 1] as number;
        const isDir = type === DT.DIR || (type === DT.UNKNOWN && lstatSync(hostOf(path, name), { throwIfNoEntry: false })?.isDirectory() === true);
        if (isDir && !this.isInternal(name)) dirs.push(name);
      }
    } catch {
      return true; // gone or replaced meanwhile: its parent's event says so
    }
    this.sink.watching(l.layer, rel, names);
    if (report) for (const name of names) this.pending.push({ layer: l.layer, dir: rel, name });
    for (const d of dirs) if (!this.walk(l, join(rel, d), report)) return false;
    return true;
  }

  /** One read's events, in order. */
  private events(events: readonly InotifyEvent[]): void {
    for (const ev of events) {
      if (this.closed) return;
      if (ev.mask & IN.Q_OVERFLOW) {
        this.overflowed();
        continue;
      }
      const keys = this.byWd.get(ev.wd);
      if (keys === undefined) continue;
      if (ev.mask & IN.IGNORED) { // the directory is gone (or unmounted): its watch with it
        for (const k of [...keys]) this.forget(k);
        continue;
      }
      if (ev.name === null) continue; // the directory itself: its parent's watch reports it
      for (const k of keys) {
        // The descriptor is the process's: an inode another watch asked more of reports that too.
        if (k === 'fence') {
          if (ev.mask & ARRIVALS) this.pending.push({ layer: -1, dir: '', name: this.opts.fence + '/' + ev.name });
          continue;
        }
        const at = k.indexOf('\0');
        const layer = Number(k.slice(0, at));
        if ((ev.mask & maskOf(this.roots.get(layer)!)) === 0) continue;
        this.event(layer, k.slice(at + 1), ev.name, (ev.mask & NAME_EVENTS) === 0, (ev.mask & IN.ISDIR) !== 0, (ev.mask & ARRIVALS) !== 0);
      }
    }
    this.flush();
  }

  /**
   * `change`: written or attributes changed (the same object, same watches); otherwise created,
   * removed or moved. `dirEvent`: the kernel said the entry is a directory; `arrived`: it was
   * created or moved in (a directory then gets walked: it may hold entries made before its watch).
   */
  private event(layer: number, dir: string, name: string, change: boolean, dirEvent: boolean, arrived: boolean): void {
    const rel = join(dir, name);
    const l = this.roots.get(layer)!;
    const path = hostOf(l.root, rel);
    // A directory created, removed or moved: its watches follow (a moved directory's watch would
    // keep reporting under the old name).
    if (!change) this.dropUnder(layer, rel);
    // A file's content changed: the other names of a hard-linked one changed with it (its inode,
    // `key`). Never lstat a mountpoint (another FUSE server, or ours: a deadlock).
    let key: string | undefined;
    if (change && !dirEvent && !this.mounts.has(path)) {
      try {
        const st = lstatSync(path);
        if (!st.isDirectory() && st.nlink > 1) key = `${st.dev}:${st.ino}`;
      } catch { /* gone */ }
    }
    // A directory's attributes may be its markers (overlay xattrs): only a non-directory's change is content only.
    this.pending.push(!change || dirEvent ? { layer, dir, name } : key === undefined ? { layer, dir, name, contentOnly: true } : { layer, dir, name, contentOnly: true, key });
    // The directory's own event first, then (walk) what was made in it before it was watched. Gone
    // or replaced by a file since: the walk finds nothing, and that change has its own event.
    if (!dirEvent || !arrived || this.isInternal(name) || !this.watchers.has(`${layer}\0${dir}`)) return;
    this.refreshMounts(); // a mount made since the walk must not be entered
    this.rewalk(l, [rel], true);
  }

  /** Walk `rels` of `l` again (watching what is new there); a layer watched whole that passes the budget degrades. */
  private rewalk(l: WatchedLayer, rels: readonly string[], report: boolean): void {
    if (rels.every((rel) => this.walk(l, rel, report)) || !this.complete.delete(l.layer)) return;
    this.sink.degraded(`more directories than the watch budget (${this.budget}) in layer ${l.root}`);
  }

  /**
   * The kernel's queue overflowed: events are lost, directories made meanwhile may be unwatched.
   * What came before is passed on, every layer walked again (watching what is new), the sink told
   * that anything may have changed, and fences made meanwhile acknowledged after it.
   */
  private overflowed(): void {
    this.flush();
    this.refreshMounts();
    for (const l of this.roots.values()) if (this.complete.has(l.layer)) this.rewalk(l, l.only ?? [''], false);
    this.sink.lost?.();
    if (this.opts.fence === undefined) return;
    let fences: string[] = [];
    try { fences = readdirNames(this.opts.fence); } catch { /* none */ }
    for (const f of fences) this.pending.push({ layer: -1, dir: '', name: this.opts.fence + '/' + f });
    this.flush();
  }

  private refreshMounts(): void {
    this.mounts = new Set([...readMounts().map((m) => m.mountpoint), ...(this.opts.never ?? [])]);
  }

  /** Pass what is pending to the sink: layer events in batches, fences in order between them. */
  private flush(): void {
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

  private addKey(key: string, wd: number): void {
    this.watchers.set(key, wd);
    const keys = this.byWd.get(wd);
    if (keys === undefined) this.byWd.set(wd, [key]);
    else if (!keys.includes(key)) keys.push(key);
  }

  /** Stop watching `key` (its descriptor too, once no other key uses it). */
  private drop(key: string): void {
    const wd = this.forget(key);
    if (wd !== undefined && !this.byWd.has(wd)) this.inotify?.remove(wd);
  }

  /** Forget `key` (the kernel dropped its watch, or drop() removes it): its descriptor. */
  private forget(key: string): number | undefined {
    const wd = this.watchers.get(key);
    if (wd === undefined) return undefined;
    this.watchers.delete(key);
    const keys = this.byWd.get(wd)?.filter((k) => k !== key) ?? [];
    if (keys.length > 0) this.byWd.set(wd, keys);
    else this.byWd.delete(wd);
    return wd;
  }
}
