// notify=auto|inotify|fanotify: lower-layer changes, as a LayerWatch reports them, become dropped lower-cache
// records and kernel invalidations of exactly the view names they may alter (layer-change.ts maps
// them, through whiteout markers and redirects). Watching fails safe: back to the time bound.
import { rmSync } from 'node:fs';
import { isDirectoryMarker, Redirects, viewChangesOf, type LayerEvent, type ViewChange } from '../src/core/layer-change.js';
import type { HostLayers } from '../src/host/layer-probe.js';
import type { LayerWatch, LayerWatchSink, WatchedLayer } from '../src/host/layer-watch.js';
import { watchBudget } from '../src/host/layer-watch.js';
import { watchLayers, type WatchStrategy } from '../src/host/layer-watches.js';
import type { NotifiedLifetime } from './transport/transport.js';

/** Where the view's kernel caches are (the transport, once mounted). */
export interface ChangeTarget {
  /** Settles once the kernel has been told (or at once, when it need not be). */
  invalidateChanges?(changes: readonly ViewChange[]): void | Promise<void>;
  invalidate?(): void | Promise<void>;
  setLifetime?(seconds: number, notified?: NotifiedLifetime): void;
}

/** The time bound to fall back to when changes stop being reported (timeout=, split as cacheBudget does). */
export interface Fallback {
  readonly kernelSeconds: number;
  readonly daemonMs: number;
}

const join = (dir: string, name: string) => (dir === '' ? name : dir + '/' + name);

/**
 * Invalidations are sent once more after this long. A LOOKUP answered just before a change reaches
 * the kernel's dentry cache only when the process that asked runs again, which on a loaded
 * machine can be after our invalidation (which then found nothing to drop); the kernel's
 * attr_version protects attributes, not names. The second notice catches such a late name.
 */
export const RESEND_MS = 200;

/**
 * The daemon's side of notify= for one layer stack: owns the watch, keeps the redirects up
 * to date, drops lower-cache records and tells the transport (once attached) what to invalidate.
 * Made with the stack (fs/setup.ts), closed with it (a reload makes a new one).
 */
export class LayerNotifier implements LayerWatchSink {
  readonly redirects = new Redirects();
  private target: ChangeTarget | undefined;
  private watch: LayerWatch | undefined;
  private degradedFlag = false;
  /** The last invalidation sent: a fence is acknowledged only after it. */
  private told: Promise<void> = Promise.resolve();
  /** Changes to send again (RESEND_MS), by key. */
  private again = new Map<string, ViewChange>();
  private againTimer: NodeJS.Timeout | undefined;
  /** Events received and view changes sent, for stats (SIGUSR2) and tests. */
  readonly counters = { layerEvents: 0, viewChanges: 0, watches: 0, lost: 0 };

  /**
   * Watch `layers` (indices into `host`'s stack; layer 0, the top, for its redirects and for the
   * top memo, which forgets what is written there behind the daemon's back: every change made
   * through the view the kernel already knows of). `mountpoint` is
   * never walked into, even when a lower layer contains it. A file created in `fence` is removed
   * once every change reported before it has been applied (see `fenced`). `strategy`: which
   * watch takes which layer (src/host/layer-watches.ts).
   */
  constructor(private readonly host: HostLayers, layers: readonly WatchedLayer[], mountpoint: string, private readonly fallback: Fallback, fence?: string, strategy: WatchStrategy = 'auto') {
    const watch = watchLayers(strategy, layers, this, {
      isInternal: (n) => host.format.isInternal(n), never: [mountpoint], ...(fence !== undefined ? { fence } : {}),
    });
    this.watch = watch;
    this.counters.watches = watch.size;
    for (const l of layers) {
      if (watch.fullyWatched(l.layer)) continue;
      process.stderr.write(`worldfs: notify: layer ${l.root} is not watched (more directories than the inotify watch budget, ${watchBudget()}, or unreadable, and no fanotify): its changes show within timeout=\n`);
    }
  }

  /** Whether every one of `layers` is watched: the caches may then live long. */
  covers(layers: readonly number[]): boolean {
    return !this.degradedFlag && this.watch !== undefined && layers.every((l) => this.watch!.fullyWatched(l));
  }

  /** Send kernel invalidations to `target` from now on (before: the kernel had nothing cached). */
  attach(target: ChangeTarget): void {
    this.target = target;
  }

  close(): void {
    this.watch?.close();
    this.watch = undefined;
    clearTimeout(this.againTimer);
  }

  watching(layer: number, rel: string, names: readonly string[]): void {
    const spec = this.host.format.redirect;
    if (spec.kind === 'xattr' || names.includes(spec.name)) this.readRedirect(layer, rel);
  }

  gone(layer: number, rel: string): void {
    this.redirects.dropUnder(layer, rel);
    if (layer === 0) this.host.topChanged(rel, true);
  }

  changed(events: readonly LayerEvent[]): void {
    const out: ViewChange[] = [];
    const keys = new Map<string, number>();
    const { format } = this.host;
    const xattrTopMarkers = format.redirect.kind === 'xattr' || format.opaque.kind === 'xattr';
    for (const ev of events) {
      this.counters.layerEvents++;
      this.markerWritten(ev.layer, ev.dir, ev.name, true);
      if (ev.layer === 0) {
        // The daemon's own writes were forgotten as they were made; one made behind its back is
        // forgotten now (a change of content only may be a marker xattr's, in formats that use them).
        if (!ev.contentOnly) this.host.topChanged(join(ev.dir, ev.name), true);
        else if (xattrTopMarkers) this.host.topChanged(join(ev.dir, ev.name), false);
        continue;
      }
      // The lower cache keeps listings and markers, not attributes: a file written or chmod'ed
      // leaves it right.
      if (!ev.contentOnly) {
        this.host.cache.changed(ev.layer, ev.dir, false);
        this.host.cache.changed(ev.layer, join(ev.dir, ev.name), true);
      }
      for (const c of viewChangesOf(ev, this.host.format, this.redirects)) {
        const key = `${c.dir}\0${c.name ?? '\0'}`;
        const seen = keys.get(key);
        if (seen === undefined) keys.set(key, out.push(c) - 1);
        else if (out[seen]!.contentOnly && !c.contentOnly) out[seen] = c; // a name change covers a content change
      }
    }
    this.counters.watches = this.watch?.size ?? 0;
    if (out.length === 0) return;
    this.counters.viewChanges += out.length;
    const sent = this.target?.invalidateChanges?.(out);
    if (sent) this.told = sent;
    for (const c of out) {
      const key = `${c.dir}\0${c.name ?? '\0'}`;
      if (!c.contentOnly || !this.again.has(key)) this.again.set(key, c);
    }
    this.againTimer ??= setTimeout(() => {
      this.againTimer = undefined;
      const changes = [...this.again.values()];
      this.again = new Map();
      if (this.watch) void this.target?.invalidateChanges?.(changes);
    }, RESEND_MS).unref();
  }

  /**
   * A fence: every layer change that happened before `path` was created has been passed to
   * `changed` (each watch's queue is in order; a fence passes every watch in use). Remove it once the kernel has been told of them too:
   * whoever created it (worldctl, before starting a command in the world) then knows that the
   * view shows those changes.
   */
  fenced(path: string): void {
    const done = () => rmSync(path, { force: true });
    void this.told.then(done, done);
  }

  degraded(reason: string): void {
    process.stderr.write(`worldfs: notify: ${reason}; lower-layer changes now show within timeout= again\n`);
    this.degradedFlag = true;
    this.host.cache.limit(this.fallback.daemonMs);
    this.host.cache.clear();
    this.host.topUnreported(this.fallback.daemonMs);
    this.target?.setLifetime?.(this.fallback.kernelSeconds);
    this.target?.invalidate?.();
  }

  /** Events were lost (an inotify queue overflowed): everything cached of the layers goes, once. */
  lost(): void {
    this.counters.lost++;
    process.stderr.write('worldfs: notify: layer changes were lost (the inotify queue overflowed): everything cached is dropped once\n');
    this.host.cache.clear();
    this.host.topChanged('', true);
    const sent = this.target?.invalidate?.();
    if (sent) this.told = sent;
  }

  /**
   * The daemon itself wrote `rel` of its top layer (LayerWriter reports it before the next request):
   * a redirect it made (a directory renamed through the view) is known at once. Its top layer's
   * watch reports the same write later, and a lower layer's change below the renamed directory
   * may come first through another descriptor (fanotify), and would then be mapped to the old name
   * only: the page cache of a file under the new name would keep the old data.
   */
  topWritten(rel: string, deep: boolean): void {
    // `deep` false: the entry's own markers changed, or moved with it (a directory renamed with its
    // redirect): read them again. Where redirects are xattrs the writer sets one with an xattr op,
    // so a file it creates or renames (every one tar writes, `deep`) costs no read.
    if (!deep) return this.readRedirect(0, rel);
    const i = rel.lastIndexOf('/');
    this.markerWritten(0, i < 0 ? '' : rel.slice(0, i), i < 0 ? rel : rel.slice(i + 1), false);
  }

  /**
   * Entry `name` of directory `dir` in `layer` changed: a redirect marker entry is read again, and
   * with `xattrs`, where redirects are xattrs, the entry's own.
   */
  private markerWritten(layer: number, dir: string, name: string, xattrs: boolean): void {
    const { format } = this.host;
    if (isDirectoryMarker(name, format)) this.readRedirect(layer, dir);
    else if (xattrs && format.redirect.kind === 'xattr') this.readRedirect(layer, join(dir, name));
  }

  private readRedirect(layer: number, rel: string): void {
    let value: string | undefined;
    try {
      value = this.host.redirectOf(layer, rel);
    } catch { /* gone meanwhile, or unreadable: no redirect */ }
    this.redirects.set(layer, rel, value);
  }
}
