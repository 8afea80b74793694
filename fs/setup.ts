// From parsed mount options to a ready WorldFs: check the directories, choose the whiteout format,
// prepare the work directory. Refuses layouts that would make the daemon read its own mount.
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { whiteoutFormat } from '../src/core/whiteout/index.js';
import { HostLayers } from '../src/host/layer-probe.js';
import { LayerWriter } from '../src/host/layer-writer.js';
import { Union } from './union/context.js';
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
}

export function setup(opts: MountOptions): Setup {
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
  const mountpoint = realDir('mountpoint', opts.mountpoint);
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
  for (const [what, dir] of [['upperdir', upper], ['workdir', work], ...lowers.map((l) => ['lowerdir', l])] as const) {
    if (within(mountpoint, dir) || within(dir, mountpoint)) {
      throw new SetupError(`mountpoint ${mountpoint} and ${what} ${dir} overlap: the filesystem would read its own mount`);
    }
  }
  const layers = new HostLayers([upper, ...lowers], format);
  const writer = new LayerWriter(upper, work);
  writer.prepare();
  const union = new Union(layers, writer, { fsync: opts.fsync, canChown: isRoot });
  return { fs: new WorldFs(union), mountpoint };
}
