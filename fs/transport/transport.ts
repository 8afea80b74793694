// The boundary between worldfs's semantics (WorldFs) and the kernel. fuse-native (libfuse 2.9,
// path-based) is the one implementation today; a /dev/fuse protocol transport will be the other.

export interface TransportOptions {
  readonly mountpoint: string;
  readonly fsname: string;
  readonly allowOther: boolean;
  /** Kernel entry/attr/negative cache lifetime, seconds. */
  readonly cacheTimeout: number;
  /** Kernel mount flags: ro, nosuid, nodev, noexec, suid, dev, exec. */
  readonly kernelFlags: readonly string[];
  readonly debug: boolean;
}

export interface Transport {
  /** Mount and start serving; resolves once the kernel has sent INIT. */
  mount(): Promise<void>;
  /** Unmount (lazily if busy) and stop serving. */
  unmount(): Promise<void>;
}
