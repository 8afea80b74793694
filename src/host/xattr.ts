// Extended attributes on host paths, never following symlinks (lgetxattr & co., via @napi-rs/xattr),
// at any path length (long-path.ts).
import { createRequire } from 'node:module';
import { host } from './errors.js';
import { atPath } from './long-path.js';

const require = createRequire(import.meta.url);
const native = require('@napi-rs/xattr') as {
  getAttributeSync(path: string, name: string): Buffer | null;
  setAttributeSync(path: string, name: string, value: Uint8Array | string): void;
  listAttributesSync(path: string): string[];
  removeAttributeSync(path: string, name: string): void;
};

/** The value of `name`, or undefined when the attribute is not set. */
export function getXattr(path: string, name: string): Buffer | undefined {
  return host(() => atPath(path, (p) => native.getAttributeSync(p, name))) ?? undefined;
}

/** Set `name` to `value`. */
export function setXattr(path: string, name: string, value: Uint8Array | string): void {
  host(() => atPath(path, (p) => native.setAttributeSync(p, name, value)));
}

/** Every attribute name on `path`. */
export function listXattrs(path: string): string[] {
  return host(() => atPath(path, (p) => native.listAttributesSync(p)));
}

/** Remove `name` (ENODATA when it is not set). */
export function removeXattr(path: string, name: string): void {
  host(() => atPath(path, (p) => native.removeAttributeSync(p, name)));
}
