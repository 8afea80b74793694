// The peers of a run, in the order they are reported: the floor, the kernel, the FUSE peers, us.
import type { Cleanup } from '../cleanup.js';
import type { BenchOptions, PeerId } from '../options.js';
import { Ext4Peer } from './ext4.js';
import { FuseOverlayfsPeer } from './fuse-overlayfs.js';
import { OverlayfsPeer } from './overlayfs.js';
import type { Peer } from './peer.js';
import { UnionfsFusePeer } from './unionfs-fuse.js';
import { WorldfsPeer } from './worldfs.js';

export interface PeerDirs {
  readonly repo: string;
  readonly probe: string;
  readonly ext4Cache: string;
}

export function makePeers(opts: BenchOptions, cleanup: Cleanup, dirs: PeerDirs): Peer[] {
  const make: Record<PeerId, () => Peer> = {
    ext4: () => new Ext4Peer(dirs.ext4Cache),
    overlayfs: () => new OverlayfsPeer(cleanup, dirs.probe),
    'fuse-overlayfs': () => new FuseOverlayfsPeer(cleanup, dirs.probe),
    'unionfs-fuse': () => new UnionfsFusePeer(cleanup, dirs.probe),
    worldfs: () => new WorldfsPeer(cleanup, dirs.probe, dirs.repo, opts.worldfsOpts),
    'worldfs-kernel': () => new WorldfsPeer(cleanup, dirs.probe, dirs.repo, opts.worldfsOpts, 'kernel'),
  };
  return opts.peers.map((id) => make[id]());
}
