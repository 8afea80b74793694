// A peer is one way of presenting a stack of layers as a writable directory: plain ext4 (the
// floor: the layers copied into one directory), kernel overlayfs, or a FUSE daemon.
import type { PeerId } from '../options.js';

/**
 * `none`: reads only (the floor uses the layer in place); `names`: adds, removes or renames names but
 * never changes a lower file's data or attributes (the floor may hard-link the lower files);
 * `files`: changes lower files (the floor needs a real copy).
 */
export type Writes = 'none' | 'names' | 'files';

export interface MountSpec {
  /** Read-only layers, highest priority first (overlayfs's lowerdir= order). */
  readonly lowers: readonly string[];
  /** An empty directory this mount may use for its upper, work and mount point. */
  readonly scratch: string;
  /** What the workload does to lower files, which decides how the floor (ext4) lays them out. */
  readonly writes: Writes;
}

export interface View {
  /** Where the workload works: the mount point (or the plain directory). */
  readonly path: string;
  /** Where the view's writes land on the host (upperdir; the directory itself for ext4). */
  readonly upper: string;
  /** The serving daemon, for its peak memory; none for ext4 and kernel overlayfs. */
  readonly daemonPid?: number;
  /** Unmount and wait for the daemon to exit (kills it after a grace period). Never throws. */
  close(): Promise<void>;
}

export interface Peer {
  readonly id: PeerId;
  readonly label: string;
  readonly kind: 'floor' | 'kernel' | 'fuse';
  /** Make it runnable (may install a Debian package); resolves to why it cannot run, or undefined. */
  prepare(): Promise<string | undefined>;
  /** Version and options, for the results' machine description. */
  describe(): string;
  mount(spec: MountSpec): Promise<View>;
}
