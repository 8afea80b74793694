// Choosing the transport named by the mount option transport=native|kernel.
import type { TransportName } from '../options.js';
import type { WorldFs } from '../worldfs.js';
import { FuseNativeTransport } from './fuse-native.js';
import { KernelTransport } from './kernel.js';
import type { Transport, TransportOptions } from './transport.js';

export function createTransport(name: TransportName, fs: WorldFs, opts: TransportOptions): Transport {
  return name === 'kernel' ? new KernelTransport(fs, opts) : new FuseNativeTransport(fs, opts);
}
