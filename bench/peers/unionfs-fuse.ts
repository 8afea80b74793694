// unionfs-fuse (Debian package unionfs-fuse, command `unionfs`) with copy-on-write: the upper
// branch read-write, the layers read-only.
import { debianVersion, ensureDebianPackage, FusePeer, type Layout } from './fuse-peer.js';

export const UNIONFS_OPTIONS = 'cow,use_ino';

export class UnionfsFusePeer extends FusePeer {
  readonly id = 'unionfs-fuse' as const;
  readonly label = 'unionfs-fuse';

  protected install(): Promise<string | undefined> {
    return ensureDebianPackage('unionfs', 'unionfs-fuse');
  }

  describe(): string {
    return `unionfs-fuse ${debianVersion('unionfs-fuse')}, -o ${UNIONFS_OPTIONS}`;
  }

  protected command(l: Layout) {
    const branches = [`${l.upper}=RW`, ...l.lowers.map((d) => `${d}=RO`)].join(':');
    return { cmd: 'unionfs', args: ['-f', '-o', UNIONFS_OPTIONS, branches, l.mnt] };
  }
}
