// From parsed mount options to a ready WorldFs: check the directories, choose the whiteout format,
// prepare the work directory. Refuses layouts that would make the daemon read its own mount.
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { whiteoutFormat } from '../src/core/whiteout/index.js';
import { HostLayers } from '../src/host/layer-probe.js';
import { lowerCacheFor } from '../src/core/lower-cache.js';
import { LayerWriter } from '../src/host/layer-writer.js';
import { SeenLog } from '../src/host/seen-log.js';
import { toViewPath, relOf } from '../src/core/paths.js';
import { Union } from '../src/host/union.js';
import { WorldFs } from './worldfs.js';
import type { MountOptions } from './options.js';

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
  const layers = new HostLayers([upper, ...lowers], format, emptied, lowerCacheFor(opts.udba, opts.cacheTimeout));
  const writer = new LayerWriter(upper, work);
  writer.prepare();
  const seen = opts.seenlog !== undefined ? new SeenLog(opts.seenlog) : undefined;
  const union = new Union(layers, writer, { fsync: opts.fsync, canChown: isRoot, metacopy: opts.metacopy }, seen);
  const fs = new WorldFs(union);
  fs.squash = opts.squash;
  return { fs, mountpoint, layers };
}
