// The boundary between worldfs's semantics (WorldFs) and the kernel. Two implementations:
// fuse-native (libfuse 2.9, path-based; fuse-native.ts) and worldfs's own /dev/fuse protocol code
// (inode-based; kernel.ts). The mount option transport=native|kernel picks one (select.ts).
import type { ViewChange } from '../../src/core/layer-change.js';
import type { ReaddirPlus } from '../options.js';

/**
 * Answers drawn from the first `layers` layers only (which report every change) live `seconds`;
 * `layers` is Infinity when every layer does (the kernel may then also keep listings and pages).
 */
export interface NotifiedLifetime {
  readonly layers: number;
  readonly seconds: number;
}

export interface TransportOptions {
  readonly mountpoint: string;
  readonly fsname: string;
  readonly allowOther: boolean;
  /** Kernel entry/attr/negative cache lifetime, seconds. */
  readonly cacheTimeout: number;
  /**
   * The lifetime instead, when every lower-layer change is reported (notify=): for a transport
   * that invalidates (`invalidateChanges`); the others ignore it and keep `cacheTimeout`.
   */
  readonly notifiedTimeout?: number;
  /**
   * When not every layer is watched: how many from the top are. Answers drawn from those alone (an
   * object whose highest copy is there) live `notifiedLayersTimeout`; the rest keep `cacheTimeout`'s.
   */
  readonly notifiedLayers?: number;
  readonly notifiedLayersTimeout?: number;
  /** Kernel mount flags: ro, nosuid, nodev, noexec, suid, dev, exec. */
  readonly kernelFlags: readonly string[];
  readonly debug: boolean;
  /** Let the kernel cache writes (WRITEBACK_CACHE); a transport that cannot ignores it. */
  readonly writebackCache?: boolean;
  /** The kernel checks POSIX ACLs (FUSE_POSIX_ACL; option acl). */
  readonly acl?: boolean;
  /**
   * Let the kernel serve open files from their layer file (FUSE passthrough) where the kernel and
   * our privileges allow; a transport that cannot ignores it. Never together with `writebackCache`.
   */
  readonly passthrough?: boolean;
  /** Let the kernel open files itself where every layer is notified (open=kernel); a transport that cannot ignores it. */
  readonly kernelOpens?: boolean;
  /** Which directory reads carry entries with attributes (readdirplus=, fs/options.ts); default `always`. */
  readonly readdirplus?: ReaddirPlus;
  /**
   * /dev/fuse opened by a keeper (worldkeep.c) that holds the connection should the daemon die:
   * mount it, or (`takeover`) serve the connection a dead daemon mounted. Kernel transport only.
   */
  readonly device?: { readonly fd: number; readonly takeover: boolean };
  /** Where to journal the node table so that a new daemon can take the connection over (journal=). */
  readonly journal?: string;
  /** How long to keep reading /dev/fuse once it is dry, at most, in µs (busy_poll=); a transport that cannot ignores it. */
  readonly busyPollUs?: number;
  /** Nodes past which the daemon asks the kernel to drop unused inodes (nodes=; 0 or absent: never). */
  readonly maxNodes?: number;
}

export interface Transport {
  /** Mount and start serving; resolves once the kernel has sent INIT. */
  mount(): Promise<void>;
  /** Unmount (lazily if busy) and stop serving. */
  unmount(): Promise<void>;
  /** Settles when the connection ends by itself (unmounted from outside); absent when the transport cannot tell. */
  readonly closed?: Promise<string> | undefined;
  /** The layer stack changed (a reload): drop what the kernel caches; settles once it has. Absent: caches just time out. */
  invalidate?(): void | Promise<void>;
  /** Lower-layer names changed (see ViewChange): drop what the kernel caches of them. Absent: it cannot. */
  invalidateChanges?(changes: readonly ViewChange[]): void | Promise<void>;
  /** Replies' cache lifetimes from now on (changes stopped being reported: back to the time bound). */
  setLifetime?(seconds: number, notified?: NotifiedLifetime): void;
  /** Counters for a soak test or a leak hunt (nodes the kernel holds, open handles, ...). */
  stats?(): Record<string, number>;
}
