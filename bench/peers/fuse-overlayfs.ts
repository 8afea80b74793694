// fuse-overlayfs (Debian package), default options.
import { debianVersion, ensureDebianPackage, FusePeer, type Layout } from './fuse-peer.js';

export class FuseOverlayfsPeer extends FusePeer {
  readonly id = 'fuse-overlayfs' as const;
  readonly label = 'fuse-overlayfs';

  protected install(): Promise<string | undefined> {
    return ensureDebianPackage('fuse-overlayfs', 'fuse-overlayfs');
  }

  describe(): string {
    return `fuse-overlayfs ${debianVersion('fuse-overlayfs')}, default options`;
  }

  protected command(l: Layout) {
    return { cmd: 'fuse-overlayfs', args: ['-f', '-o', `lowerdir=${l.lowers.join(':')},upperdir=${l.upper},workdir=${l.work}`, l.mnt] };
  }
}
