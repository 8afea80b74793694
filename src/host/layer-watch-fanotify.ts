// The fanotify LayerWatch: one mark per filesystem a layer spans (FAN_MARK_FILESYSTEM), however
// many directories it holds, so a host root is watched whole at no walking cost. Root only.
// Events are read by a thread of the native addon (src/host/fanotify.c), which drops our own, and
// those outside the layers, and names the rest; here they become the sink's calls.
// Threads: the addon's reader thread never touches this object; batches arrive on the main thread.
import { mkdirSync, readdirSync, realpathSync } from 'node:fs';
import type { LayerEvent } from '../core/layer-change.js';
import { planMarks } from '../core/fanotify-marks.js';
import { readMounts } from './mountinfo.js';
import { FAN_R, fanotifyClose, fanotifyWatch, type FanotifyRecords } from './syscalls.js';
import type { LayerWatch, LayerWatchSink, WatchedLayer, WatchOptions } from './layer-watch.js';

const join = (dir: string, name: string) => (dir === '' ? name : dir + '/' + name);
const hostOf = (root: string, rel: string) => (rel === '' ? root : root === '/' ? '/' + rel : root + '/' + rel);

/** How FanotifyLayerWatch differs from the inotify one's options. */
export interface FanotifyOptions extends WatchOptions {
  /**
   * Layers whose directories are listed once, now and as directories appear, so the sink learns
   * their redirect markers (`watching`): those with a layer below them. The lowest layer (a host
   * root) is never walked: its redirects map nothing.
   */
  readonly scan?: (layer: number) => boolean;
}

/**
 * Watch `layers` through fanotify. Throws (FsError EPERM, EINVAL...) when the process cannot make
 * a group (not root, no fanotify). A layer whose filesystems could not all be marked is not
 * `fullyWatched` (the caller falls back). Contract as LayerWatch: `watching` and `gone` are called
 * in order, `changed` in batches (one per read of the group), fences in order with them.
 */
export class FanotifyLayerWatch implements LayerWatch {
  private handle: object | undefined;
  private readonly complete = new Set<number>();
  /** Per layer, mounts below its root fanotify could not mark (an overlayfs, say): left to inotify. */
  private readonly uncoveredAt = new Map<number, string[]>();
  private readonly roots = new Map<number, WatchedLayer>();
  private marks = 0;
  private degradedOnce = false;
  private readonly isInternal: (name: string) => boolean;
  private mounts = new Set<string>();

  constructor(layers: readonly WatchedLayer[], private readonly sink: LayerWatchSink, private readonly opts: FanotifyOptions = {}) {
    this.isInternal = opts.isInternal ?? (() => false);
    const table = readMounts();
    this.mounts = new Set([...table.map((m) => m.mountpoint), ...(opts.never ?? [])]);
    let fence: string | undefined;
    if (opts.fence !== undefined) {
      try { mkdirSync(opts.fence, { mode: 0o700 }); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; }
      fence = realpathSync(opts.fence);
    }
    const plan = planMarks(table, layers, opts.never ?? [], fence);
    const fuse = table.filter((m) => m.fstype.startsWith('fuse')).map((m) => m.mountpoint);
    const { handle, errors } = fanotifyWatch({
      ownPid: process.pid,
      filesystems: plan.filesystems,
      roots: layers.map((l) => ({ layer: l.layer, root: l.root, skips: [...(l.skip ?? [])] })),
      never: [...(opts.never ?? []), ...fuse],
      ...(fence !== undefined ? { fence } : {}),
    }, (records) => {
      // An exception here would be uncaught in the daemon: a bug is logged, and the watch given up.
      try {
        this.onBatch(records);
      } catch (e) {
        process.stderr.write(`worldfs: notify: fanotify batch failed: ${(e as Error).stack ?? String(e)}\n`);
        if (!this.degradedOnce) this.sink.degraded('fanotify: an event could not be handled');
        this.degradedOnce = true;
      }
    });
    this.handle = handle;
    const failed = new Set(plan.filesystems.filter((_, i) => errors[i] !== '').map((f) => f.dev));
    this.marks = plan.filesystems.length - failed.size;
    for (const [i, f] of plan.filesystems.entries()) {
      if (errors[i] !== '') process.stderr.write(`worldfs: notify: fanotify cannot mark ${f.path} (${errors[i]}): inotify watches it\n`);
    }
    for (const l of layers) {
      this.roots.set(l.layer, l);
      const span = plan.spans.get(l.layer) ?? [];
      if (span.length === 0 || failed.has(span[0]!.dev) || span[0]!.at !== '') {
        this.sink.gone(l.layer, '');
        continue;
      }
      this.complete.add(l.layer);
      const left = span.filter((s) => failed.has(s.dev)).map((s) => s.at);
      if (left.length > 0) this.uncoveredAt.set(l.layer, left);
      if (opts.scan?.(l.layer)) this.scan(l, '');
    }
  }

  get size(): number {
    return this.handle === undefined ? 0 : this.marks;
  }

  /** Whether layer `layer` is watched here, except for its `uncovered` subtrees. */
  fullyWatched(layer: number): boolean {
    return this.handle !== undefined && this.complete.has(layer);
  }

  /** Root-relative mountpoints of filesystems below layer `layer` that fanotify could not mark. */
  uncovered(layer: number): readonly string[] {
    return this.uncoveredAt.get(layer) ?? [];
  }

  close(): void {
    const h = this.handle;
    this.handle = undefined;
    if (h !== undefined) fanotifyClose(h);
  }

  /** Tell the sink the entries of directory `rel` of `l` and below (its redirect markers). */
  private scan(l: WatchedLayer, rel: string): void {
    const path = hostOf(l.root, rel);
    if (rel !== '' && (this.mounts.has(path) || l.skip?.includes(rel))) return;
    let entries;
    try {
      entries = readdirSync(path, { withFileTypes: true });
    } catch {
      return; // gone or replaced meanwhile: its parent's event says so
    }
    this.sink.watching(l.layer, rel, entries.map((d) => d.name));
    for (const d of entries) if (d.isDirectory() && !this.isInternal(d.name)) this.scan(l, join(rel, d.name));
  }

  private onBatch(records: FanotifyRecords): void {
    if (this.handle === undefined) return;
    let batch: LayerEvent[] = [];
    const flush = () => {
      if (batch.length > 0) this.sink.changed(batch);
      batch = [];
    };
    for (let i = 0; i + 4 < records.length; i += 5) {
      const flags = records[i] as number;
      const layer = records[i + 1] as number;
      const dir = records[i + 2] as string;
      const name = records[i + 3] as string;
      const key = records[i + 4] as string | undefined;
      if (flags & FAN_R.DEGRADED) {
        flush();
        if (!this.degradedOnce) this.sink.degraded(name);
        this.degradedOnce = true;
        continue;
      }
      if (flags & FAN_R.FENCE) {
        flush();
        this.sink.fenced?.(name);
        continue;
      }
      // The work directory and other bookkeeping: never part of the view.
      const slash = dir.indexOf('/');
      const first = dir === '' ? name : slash < 0 ? dir : dir.slice(0, slash);
      if (this.isInternal(first)) continue;
      const rel = join(dir, name);
      if (flags & FAN_R.GONE) this.sink.gone(layer, rel);
      if ((flags & FAN_R.CONTENT) && !(flags & (FAN_R.NAME | FAN_R.DIR))) {
        batch.push(key === undefined ? { layer, dir, name, contentOnly: true } : { layer, dir, name, contentOnly: true, key });
      } else {
        batch.push({ layer, dir, name });
      }
      if ((flags & FAN_R.ADDED) && this.opts.scan?.(layer) && !this.isInternal(name)) {
        this.mounts = new Set([...readMounts().map((m) => m.mountpoint), ...(this.opts.never ?? [])]); // a mount made since must not be entered
        this.scan(this.roots.get(layer)!, rel);
      }
    }
    flush();
  }
}
