// Extended attributes on host paths, never following symlinks (lgetxattr & co., via @napi-rs/xattr),
// at any path length (long-path.ts).
import { createRequire } from 'node:module';
import { host } from './errors.js';
import { atPath } from './long-path.js';

interface Native {
  getAttributeSync(path: string, name: string): Buffer | null;
  setAttributeSync(path: string, name: string, value: Uint8Array | string): void;
  listAttributesSync(path: string): string[];
  removeAttributeSync(path: string, name: string): void;
}
let loaded: Native | undefined;
/** The addon, loaded on first use: `worldctl run` imports this module but never needs it. */
const native = (): Native => (loaded ??= createRequire(import.meta.url)('@napi-rs/xattr') as Native);

/**
 * Load the addon now. A daemon does it before it serves (fs/setup.ts): loaded on first use, it made
 * the first request that reads an attribute 8-10 ms slower (a cold walk of 200 files took 44-60 ms,
 * 40-45 ms with this). An addon that cannot load fails at its first use, as before.
 */
export function loadXattrs(): void {
  try {
    native();
  } catch {
    // reported by the first call that needs it
  }
}

/** The value of `name`, or undefined when the attribute is not set. */
export function getXattr(path: string, name: string): Buffer | undefined {
  const n = native();
  return host(() => atPath(path, (p) => n.getAttributeSync(p, name))) ?? undefined;
}

/** Set `name` to `value`. */
export function setXattr(path: string, name: string, value: Uint8Array | string): void {
  const n = native();
  host(() => atPath(path, (p) => n.setAttributeSync(p, name, value)));
}

/** Every attribute name on `path`. */
export function listXattrs(path: string): string[] {
  const n = native();
  return host(() => atPath(path, (p) => n.listAttributesSync(p)));
}

/** Remove `name` (ENODATA when it is not set). */
export function removeXattr(path: string, name: string): void {
  const n = native();
  host(() => atPath(path, (p) => n.removeAttributeSync(p, name)));
}
