// Which LayerWatch watches which layer (notify=inotify|fanotify|auto): inotify where a layer fits
// its budget, fanotify (whole filesystems, root only) for the rest, or the other way round; and a
// fence acknowledged only once every watch in use has passed it (each has its own event queue).
import type { LayerWatch, LayerWatchSink, WatchedLayer, WatchOptions } from './layer-watch.js';
import { InotifyLayerWatch } from './layer-watch.js';
import { FanotifyLayerWatch } from './layer-watch-fanotify.js';
import { readMounts } from './mountinfo.js';

/**
 * `auto` (and `inotify`, its older name): inotify first; a layer it cannot take (past the lowest
 * layer's directory bound or the watch budget) goes to fanotify. `fanotify`: every layer but the
 * top (watched for its redirects only, which the daemon writes itself: fanotify drops our own
 * events) goes to fanotify; what it cannot mark, to inotify. Without fanotify (not root, or
 * $WORLDFS_FANOTIFY=off), inotify alone.
 */
export type WatchStrategy = 'auto' | 'inotify' | 'fanotify';

/**
 * Several watches as one: `fan` takes some layers whole but for the subtrees it could not mark,
 * which `rest` watches; `ino` the other layers (it may be `rest`).
 */
class Watches implements LayerWatch {
  private readonly parts: readonly LayerWatch[];

  constructor(private readonly fan: FanotifyLayerWatch, private readonly ino: LayerWatch, private readonly rest?: LayerWatch) {
    this.parts = [fan, ino, ...(rest && rest !== ino ? [rest] : [])];
  }

  fullyWatched(layer: number): boolean {
    if (!this.fan.fullyWatched(layer)) return this.ino.fullyWatched(layer);
    return this.fan.uncovered(layer).length === 0 || (this.rest?.fullyWatched(layer) ?? false);
  }

  get size(): number {
    return this.parts.reduce((n, p) => n + p.size, 0);
  }

  close(): void {
    for (const p of this.parts) p.close();
  }
}

/**
 * Forwards everything to `sink` but fences: one is passed on once every watch in use (`expect`)
 * reported it (each reports it after the changes queued before it in its own queue). A path seen
 * again later (its removal, which inotify reports too) starts a count nobody finishes: such
 * leftovers are dropped once newer fences completed.
 */
class FenceJoin {
  private readonly seen = new Map<string, { parts: Set<number>; born: number }>();
  private done = 0;
  /** How many watches must report a fence (set once they exist: none reports during its construction). */
  expect = 1;

  constructor(private readonly sink: LayerWatchSink) {}

  /** The sink for watch number `part`. */
  part(part: number): LayerWatchSink {
    const sink = this.sink;
    return {
      changed: (events) => sink.changed(events),
      watching: (layer, rel, names) => sink.watching(layer, rel, names),
      gone: (layer, rel) => sink.gone(layer, rel),
      degraded: (reason) => sink.degraded(reason),
      lost: () => sink.lost?.(),
      fenced: (path) => this.fenced(part, path),
    };
  }

  private fenced(part: number, path: string): void {
    const s = this.seen.get(path) ?? { parts: new Set<number>(), born: this.done };
    s.parts.add(part);
    this.seen.set(path, s);
    if (s.parts.size < this.expect) return;
    this.seen.delete(path);
    this.done++;
    for (const [p, o] of this.seen) if (this.done - o.born > 16) this.seen.delete(p);
    this.sink.fenced?.(path);
  }
}

/**
 * Watch `layers` for `sink` as `strategy` says. Layers that no watch could take whole are left
 * unwatched (`fullyWatched` false): the caller falls back to its time bound for them.
 */
export function watchLayers(strategy: WatchStrategy, layers: readonly WatchedLayer[], sink: LayerWatchSink, opts: WatchOptions = {}): LayerWatch {
  const lowest = Math.max(...layers.map((l) => l.layer));
  const scan = (layer: number) => layer !== lowest;
  const fences = new FenceJoin(sink);
  if (strategy === 'fanotify') {
    const fan = tryFanotify(layers.filter((l) => l.layer > 0), fences.part(0), opts, scan);
    const ino = new InotifyLayerWatch(layers.flatMap((l) => forInotify(l, fan, l.layer === 0)), fences.part(1), opts);
    fences.expect = fan ? 2 : 1;
    return fan ? new Watches(fan, ino, ino) : ino;
  }
  // auto: the inotify walk decides what fits; fanotify takes the rest (inotify again, for what it
  // cannot mark). A bounded layer that is a whole filesystem (the host's /) goes to fanotify at
  // once: walking a thousand of its directories only to give up costs 0.2-0.8 s at each mount.
  const mountpoints = new Set(readMounts().map((m) => m.mountpoint));
  const whole = (l: WatchedLayer) => l.maxDirs !== undefined && mountpoints.has(l.root);
  const early = layers.some(whole) ? tryFanotify(layers.filter(whole), fences.part(1), opts, scan) : undefined;
  const ino = new InotifyLayerWatch(layers.filter((l) => !early?.fullyWatched(l.layer)), fences.part(0), opts);
  const fan = early ?? tryFanotify(layers.filter((l) => !ino.fullyWatched(l.layer)), fences.part(1), opts, scan);
  if (!fan) return ino;
  const left = layers.filter((l) => !ino.fullyWatched(l.layer) && fan.fullyWatched(l.layer)).flatMap((l) => forInotify(l, fan, false));
  const rest = left.length > 0 ? new InotifyLayerWatch(left, fences.part(2), opts) : undefined;
  fences.expect = rest ? 3 : 2;
  return new Watches(fan, ino, rest);
}

/** What inotify watches of `l`: all of it (`whole`, or fanotify did not take it), the subtrees fanotify could not mark, or nothing. */
function forInotify(l: WatchedLayer, fan: FanotifyLayerWatch | undefined, whole: boolean): WatchedLayer[] {
  if (whole || !fan?.fullyWatched(l.layer)) return [l];
  const left = fan.uncovered(l.layer);
  if (left.length === 0) return [];
  const { maxDirs: _bound, ...rest } = l;
  return [{ ...rest, only: left }];
}

function tryFanotify(layers: readonly WatchedLayer[], sink: LayerWatchSink, opts: WatchOptions, scan: (layer: number) => boolean): FanotifyLayerWatch | undefined {
  // $WORLDFS_FANOTIFY=off: as a process that cannot use it (tests of the fallback, a kernel without it).
  if (layers.length === 0 || process.getuid?.() !== 0 || process.env.WORLDFS_FANOTIFY === 'off') return undefined;
  try {
    return new FanotifyLayerWatch(layers, sink, { ...opts, scan });
  } catch (e) {
    process.stderr.write(`worldfs: notify: fanotify is not available (${(e as Error).message}): inotify only\n`);
    return undefined;
  }
}
