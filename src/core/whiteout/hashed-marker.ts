// Whiteouts of names too long for their own marker: aufs's `.wh.<name>` passes NAME_MAX (255 bytes)
// for a name of 252-255 bytes, so such a name is whited out by an internal entry named after a hash
// of it instead (`.wh..wh..hwh.<sha256 hex>`). The marker cannot be read back into the name: what it
// hides is found by hashing the names that could be hidden (those listed below it). Pure: hashing is
// computation, no I/O.
import { createHash } from 'node:crypto';

/** Linux NAME_MAX, in bytes. */
const NAME_MAX = 255;
const PREFIX = '.wh..wh..hwh.';
const HEX = /^[0-9a-f]{64}$/;

/** Whether `prefix + name` fits in NAME_MAX bytes (a UTF-16 unit is at most 3 UTF-8 bytes). */
export function fitsWithPrefix(prefix: string, name: string): boolean {
  return (prefix.length + name.length) * 3 <= NAME_MAX || Buffer.byteLength(prefix + name) <= NAME_MAX;
}

/** The hashed marker that whites out `name` (any name; used for those too long for `.wh.<name>`). */
export function hashedMarker(name: string): string {
  return PREFIX + createHash('sha256').update(name).digest('hex');
}

/** Whether `name` (as listed) is a hashed marker. */
export function isHashedMarker(name: string): boolean {
  return name.length === PREFIX.length + 64 && name.startsWith(PREFIX) && HEX.test(name.slice(PREFIX.length));
}

/**
 * The names among `candidates` that a hashed marker in `markers` whites out, for a format whose
 * `markerFor` gives that marker. Cheap when `markers` is empty (the usual case): nothing is hashed.
 */
export function hiddenByHashed(
  markers: ReadonlySet<string>, candidates: Iterable<string>, markerFor: (name: string) => string | undefined,
): string[] {
  if (markers.size === 0) return [];
  const out: string[] = [];
  for (const name of candidates) {
    const m = markerFor(name);
    if (m !== undefined && markers.has(m)) out.push(name);
  }
  return out;
}
