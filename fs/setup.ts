// From parsed mount options to a ready WorldFs: check the directories, choose the whiteout format,
// prepare the work directory. Refuses layouts that would make the daemon read its own mount.
import { appendFileSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { whiteoutFormat } from '../src/core/whiteout/index.js';
import { HostLayers } from '../src/host/layer-probe.js';
import { cacheBudget, lowerCacheFor } from '../src/core/lower-cache.js';
import { TopMemo } from '../src/core/top-memo.js';
import { LayerWriter } from '../src/host/layer-writer.js';
import { loopTurn } from '../src/host/loop-turn.js';
import { SeenLog } from '../src/host/seen-log.js';
import { toViewPath, relOf } from '../src/core/paths.js';
import { Union } from '../src/host/union.js';
import { loadXattrs } from '../src/host/xattr.js';
import { WorldFs } from './worldfs.js';
import { LayerNotifier } from './layer-notify.js';
import type { MountOptions } from './options.js';

/** inotify watches the lowest layer only if it has at most this many directories (else fanotify, as root). */
const LOWEST_LAYER_DIRS = 1024;

export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SetupError';
  }
}

function realDir(what: string, p: string): string {
  let real: string;
  try {
    real = realpathSync(p);
  } catch {
    throw new SetupError(`${what} ${p} does not exist`);
  }
  if (!statSync(real).isDirectory()) throw new SetupError(`${what} ${p} is not a directory`);
  return real;
}

const within = (a: string, b: string) => a === b || a.startsWith(b.endsWith('/') ? b : b + '/');

export interface Setup {
  readonly fs: WorldFs;
  readonly mountpoint: string;
  readonly layers: HostLayers;
  /** notify=: the watch on the layers (close it with the stack). */
  readonly notifier?: LayerNotifier;
  /** Whether every lower-layer change is reported, so the caches may live `notifiedTimeout`. */
  readonly notified: boolean;
  /**
   * How many layers from the top have every change reported (all of them when `notified`): an
   * answer drawn from those alone may be cached long even when a lower one (a host base) is not watched.
   */
  readonly notifiedLayers: number;
}

/**
 * Build the filesystem for `opts`. `mounted` is the (real) mountpoint when the daemon already
 * serves it (a reload): it must not be stat'ed then, since that would be a request to ourselves.
 */
export function setup(opts: MountOptions, mounted?: string): Setup {
  const format = (() => {
    try {
      return whiteoutFormat(opts.whiteout);
    } catch (e) {
      throw new SetupError((e as Error).message);
    }
  })();
  const isRoot = process.getuid?.() === 0;
  if (format.id === 'overlay' && !isRoot) {
    throw new SetupError('whiteout=overlay keeps trusted.overlay.* xattrs, which need root; use whiteout=overlay-user or whiteout=aufs');
  }
  loadXattrs(); // not at the first request that reads an attribute
  const mountpoint = mounted ?? realDir('mountpoint', opts.mountpoint);
  const upper = realDir('upperdir', opts.upperdir);
  const lowers = opts.lowerdirs.map((d) => realDir('lowerdir', d));
  let work: string;
  if (opts.workdir !== undefined) {
    work = realDir('workdir', opts.workdir);
  } else if (format.isInternal('.wh..wh.work')) {
    work = upper + '/.wh..wh.work';
    mkdirSync(work, { recursive: true, mode: 0o700 });
  } else {
    throw new SetupError(`whiteout=${format.id} needs workdir= (an empty directory on the same filesystem as upperdir)`);
  }
  if (statSync(work).dev !== statSync(upper).dev) {
    throw new SetupError(`workdir ${work} and upperdir ${upper} are on different filesystems: copy-up could not be atomic`);
  }
  if (opts.workdir !== undefined && (within(work, upper) || within(upper, work))) {
    throw new SetupError(`workdir ${work} and upperdir ${upper} must not contain each other`);
  }
  // A mountpoint inside a lower layer is hidden from the view (see fs/main.ts); inside the upper or
  // work directory, or with a layer inside the mountpoint, the daemon would read its own mount.
  for (const [what, dir] of [['upperdir', upper], ['workdir', work]] as const) {
    if (within(mountpoint, dir) || within(dir, mountpoint)) {
      throw new SetupError(`mountpoint ${mountpoint} and ${what} ${dir} overlap: the filesystem would read its own mount`);
    }
  }
  for (const dir of lowers) {
    if (within(dir, mountpoint)) {
      throw new SetupError(`lowerdir ${dir} lies inside mountpoint ${mountpoint}: the filesystem would read its own mount`);
    }
    if (dir === mountpoint) throw new SetupError(`lowerdir ${dir} is the mountpoint`);
  }
  const emptied = opts.prune.map((p) => {
    try {
      return relOf(toViewPath(p));
    } catch {
      throw new SetupError(`prune=${p}: expected an absolute path`);
    }
  });
  // A fresh stack gets a fresh lower cache: a reload (swap) never sees the old stack's records.
  // With every lower layer watched (notify=), it lives notifiedTimeout: changes drop
  // their records as they are reported. The lifetime is decided once the watch is up.
  let ttlMs = cacheBudget(opts.udba, opts.cacheTimeout).daemonMs;
  // With a lifetime of 0 (timeout=0, or a base nobody watches) the cache still serves one turn of the
  // event loop: a request reads each lower directory once (a READDIRPLUS's entries, a path's parts).
  const timeout = opts.notify !== 'none' ? Math.max(opts.cacheTimeout, 2 * opts.notifiedTimeout) : opts.cacheTimeout;
  const cache = lowerCacheFor(opts.udba, timeout, { turn: loopTurn });
  // The top layer's answers are remembered until the daemon's own writes (LayerWriter, below) or
  // the top layer's watch report them changed (src/core/top-memo.ts).
  const layers = new HostLayers([upper, ...lowers], format, emptied, cache, new TopMemo({ isMarker: (n) => format.isInternal(n) || format.isReservedName(n) }));
  const check = process.env.WORLDFS_TOP_MEMO_CHECK;
  if (check) layers.onStaleTop = (message) => reportStale(check, upper, message);
  let notifier: LayerNotifier | undefined;
  let notified = false;
  let notifiedLayers = 0;
  if (opts.notify !== 'none') {
    // The top layer is watched for its redirects (lower names it renamed) and for what its other
    // writers change (names; attributes too where markers are xattrs): never for writes, which
    // change no answer the daemon keeps of it (the daemon's own came to five events per file it
    // wrote). The lowest layer (a world's host base, an image's root) is watched only if small:
    // walking a whole root filesystem to find out would cost seconds at every mount.
    const topEvents = format.redirect.kind === 'xattr' || format.opaque.kind === 'xattr' ? 'attributes' as const : 'names' as const;
    const watched = [{ layer: 0, root: upper, events: topEvents }, ...lowers.map((root, i) => ({
      layer: i + 1, root, skip: emptied, ...(i === lowers.length - 1 ? { maxDirs: LOWEST_LAYER_DIRS } : {}),
    }))];
    notifier = new LayerNotifier(layers, watched, mountpoint, { kernelSeconds: cacheBudget(opts.udba, opts.cacheTimeout).kernelSeconds, daemonMs: ttlMs }, opts.fence, opts.notify === 'fanotify' ? 'fanotify' : 'auto');
    const firstUnwatched = watched.findIndex((w) => !notifier!.covers([w.layer]));
    notifiedLayers = firstUnwatched < 0 ? watched.length : firstUnwatched;
    notified = notifiedLayers === watched.length;
    if (notified) ttlMs = Math.max(ttlMs, opts.notifiedTimeout * 1000);
  }
  cache.limit(ttlMs);
  // The top layer's other writers (a merged world's aliases) are reported by its watch; without
  // one, what is remembered of it lives as long as unreported lower-layer changes may go unseen.
  if (!notifier?.covers([0])) layers.topUnreported(cacheBudget(opts.udba, opts.cacheTimeout).daemonMs);
  const writer = new LayerWriter(upper, work, (rel, deep) => {
    layers.topChanged(rel, deep);
    notifier?.topWritten(rel, deep);
  });
  writer.prepare();
  const seen = opts.seenlog !== undefined ? new SeenLog(opts.seenlog) : undefined;
  const union = new Union(layers, writer, { fsync: opts.fsync, canChown: isRoot, metacopy: opts.metacopy }, seen);
  const fs = new WorldFs(union);
  fs.squash = opts.squash;
  return { fs, mountpoint, layers, notifier, notified, notifiedLayers };
}

/**
 * $WORLDFS_TOP_MEMO_CHECK=FILE (a test aid): the top memo's answers are checked against the layer,
 * and each stale one is appended to FILE (stderr when it cannot be), with the upper directory.
 */
function reportStale(file: string, upper: string, message: string): void {
  const line = `worldfs ${process.pid}: top memo of ${upper}: ${message}\n`;
  try {
    appendFileSync(file, line);
  } catch {
    process.stderr.write(line);
  }
}
