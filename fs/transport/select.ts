// Choosing the transport named by the mount option transport=auto|native|kernel. `auto` (the
// default) is the kernel transport when the daemon runs as uid 0 (root, or root of a user
// namespace) and its mount succeeds; otherwise fuse-native, which mounts through a setuid
// fusermount: the kernel transport cannot (fusermount hands the /dev/fuse descriptor back over a
// unix socket, SCM_RIGHTS, which Node cannot receive without native code).
import type { TransportName } from '../options.js';
import type { WorldFs } from '../worldfs.js';
import { FuseNativeTransport } from './fuse-native.js';
import { KernelTransport } from './kernel.js';
import type { NotifiedLifetime, Transport, TransportOptions } from './transport.js';

export function createTransport(name: TransportName, fs: WorldFs, opts: TransportOptions): Transport {
  if (name === 'kernel') return new KernelTransport(fs, opts);
  if (name === 'native') return new FuseNativeTransport(fs, opts);
  return new AutoTransport(fs, opts);
}

/** transport=auto: kernel where it can mount, fuse-native otherwise (said once on stderr). */
class AutoTransport implements Transport {
  private chosen: Transport | undefined;

  constructor(private readonly fs: WorldFs, private readonly opts: TransportOptions) {}

  get closed(): Promise<string> | undefined {
    return this.chosen?.closed;
  }

  async mount(): Promise<void> {
    if (process.getuid?.() === 0) {
      const kernel = new KernelTransport(this.fs, this.opts);
      try {
        await kernel.mount();
        this.chosen = kernel;
        return;
      } catch (e) {
        process.stderr.write(`worldfs: transport=auto: the kernel transport could not mount (${(e as Error).message.trim()}); using fuse-native\n`);
      }
    }
    const native = new FuseNativeTransport(this.fs, this.opts);
    await native.mount();
    this.chosen = native;
  }

  unmount(): Promise<void> {
    return this.chosen?.unmount() ?? Promise.resolve();
  }

  invalidate(): void | Promise<void> {
    return this.chosen?.invalidate?.();
  }

  invalidateChanges(changes: Parameters<NonNullable<Transport['invalidateChanges']>>[0]): void | Promise<void> {
    return this.chosen?.invalidateChanges?.(changes);
  }

  setLifetime(seconds: number, notified?: NotifiedLifetime): void {
    this.chosen?.setLifetime?.(seconds, notified);
  }

  stats(): Record<string, number> {
    return { ...this.chosen?.stats?.(), kernelTransport: this.chosen instanceof KernelTransport ? 1 : 0 };
  }
}
