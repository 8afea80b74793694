// What st_ino a view reports: the number an object had before it was copied up (overlayfs's
// `trusted.overlay.origin` + ovl_map_dev_ino, xino), kept only while nothing else in the view can
// show it. Pure decisions over facts the host side gathered (src/host/inode-origin.ts argues why).

/**
 * The object whose number a copy keeps reporting: a file or directory in a layer, known by the
 * layer's identity, its path there and its own identity (inode number and birth time), which
 * tells it apart from a later inode that reused the number.
 */
export interface OriginRecord {
  /** The layer holding the origin: its root's "ino.btime" (the same layer in every stack). */
  readonly layer: string;
  /** The origin's path inside that layer, where it was when its number was recorded. */
  readonly rel: string;
  readonly ino: bigint;
  readonly btimeNs: bigint;
}

/**
 * A record as read back. `byName`: only the origin's name was stored (its full path did not fit
 * an xattr value or a symlink: a place deeper than about 4 KiB), and `rel` holds that name; the
 * origin's directory is then the origin of the copy's own directory (core/origin.ts, originIn),
 * as overlayfs's relative redirects say for a renamed directory too deep for an absolute one.
 */
export interface StoredOrigin extends OriginRecord {
  readonly byName: boolean;
}

/** The record as stored in the format's origin xattr; with `byName`, only the rel's last name. */
export function encodeOrigin(r: OriginRecord, byName = false): string {
  const rel = byName ? r.rel.slice(r.rel.lastIndexOf('/') + 1) : r.rel;
  return JSON.stringify([byName ? 'o1n' : 'o1', r.layer, String(r.ino), String(r.btimeNs), rel]);
}

/** Parse a stored record; undefined for anything malformed or of another version (then ignored). */
export function decodeOrigin(text: string): StoredOrigin | undefined {
  try {
    const v: unknown = JSON.parse(text);
    if (!Array.isArray(v) || v.length !== 5 || (v[0] !== 'o1' && v[0] !== 'o1n')) return undefined;
    const [version, layer, ino, btime, rel] = v as unknown[];
    if (typeof layer !== 'string' || typeof rel !== 'string' || typeof ino !== 'string' || typeof btime !== 'string') return undefined;
    if (!/^\d+$/.test(ino) || !/^\d+$/.test(btime)) return undefined;
    const byName = version === 'o1n';
    if (byName && (rel === '' || rel.includes('/'))) return undefined;
    return { layer, rel, ino: BigInt(ino), btimeNs: BigInt(btime), byName };
  } catch {
    return undefined;
  }
}

/**
 * The full record of a stored one: a by-name record's origin is `name` in `dirOrigin()` (the
 * origin of the copy's directory, '' for the layer root), asked for only then.
 */
export function placeRecord(stored: StoredOrigin, dirOrigin: () => string): OriginRecord {
  const { layer, ino, btimeNs } = stored;
  if (!stored.byName) return { layer, rel: stored.rel, ino, btimeNs };
  const dir = dirOrigin();
  return { layer, rel: dir === '' ? stored.rel : dir + '/' + stored.rel, ino, btimeNs };
}

/** A layer root's identity as records name it. */
export function layerKey(rootIno: bigint, rootBtimeNs: bigint): string {
  return `${rootIno}.${rootBtimeNs}`;
}

/** Bits of a host inode number kept below the filesystem index (xino): 2^40 inodes per filesystem. */
export const INO_BITS = 40n;
/** Filesystem indexes fit 13 bits, so every number stays below 2^53 (exact in a JS number). */
export const MAX_FS_INDEX = 8190;
/** The index whose numbers are handed out, one by one, to inodes too big for INO_BITS. */
export const OVERFLOW_INDEX = 8191;

/**
 * The view's number for host inode `ino` of the filesystem with index `fsIndex` (0: the top
 * layer's, so a one-filesystem stack reports host numbers unchanged). Undefined when the inode
 * does not fit INO_BITS (the caller hands out an overflow number) or the index is out of range.
 */
export function composeIno(fsIndex: number, ino: bigint): number | undefined {
  if (fsIndex < 0 || fsIndex > MAX_FS_INDEX || ino >= INO_LIMIT) return undefined;
  return fsIndex * INO_SPAN + Number(ino); // below 2^53: exact, and no BigInt arithmetic on the hot path
}

const INO_LIMIT = 1n << INO_BITS;
const INO_SPAN = 2 ** Number(INO_BITS);

/** An overflow number: the n-th inode (from 1) too big for composeIno, in its own index. */
export function overflowIno(n: number): number {
  return Number((BigInt(OVERFLOW_INDEX) << INO_BITS) | BigInt(n));
}

/** What an lstat of the recorded place found. */
export interface OriginSighting {
  readonly ino: bigint;
  readonly btimeNs: bigint;
  readonly nlink: number;
  readonly isDir: boolean;
}

/**
 * Whether a copy in layer `copyLayer` may report its record's number, given the layer index the
 * record's layer has in this stack (undefined: not in it) and what is at the recorded place now.
 * The origin must sit strictly below the copy, be the very inode recorded (number and birth time),
 * and, unless a directory, have one name (overlayfs's rule: a lower hard link may be copied up
 * more than once, to different files). `covered` is the view-side check (see coveredBy).
 */
export function originHolds(
  r: OriginRecord, originLayer: number | undefined, copyLayer: number, seen: OriginSighting | undefined, covered: () => boolean,
): boolean {
  if (originLayer === undefined || originLayer <= copyLayer || seen === undefined) return false;
  if (seen.ino !== r.ino || seen.btimeNs !== r.btimeNs || r.btimeNs === 0n) return false;
  if (!seen.isDir && seen.nlink !== 1) return false;
  return covered();
}

/** How the view answers at the origin's recorded path, walked one component at a time. */
export type PlaceInView =
  | { readonly kind: 'object'; readonly layer: number; readonly id: string }    // an object (host "dev:ino") shows there
  | { readonly kind: 'whiteout'; readonly layer: number }                        // a whiteout (there or above) hides it
  | { readonly kind: 'other' };                                                  // anything else (opaque, non-dir ancestor)

/**
 * The origin is hidden by the copy's own layer: its place shows the copy itself (the same host
 * inode `copyId`, under any of its names), or is whited out in the copy's layer. Then no other copy
 * in the stack can claim it (see inode-origin.ts).
 */
export function coveredBy(place: PlaceInView, copyLayer: number, copyId: string): boolean {
  if (place.kind === 'object') return place.layer === copyLayer && place.id === copyId;
  return place.kind === 'whiteout' && place.layer === copyLayer;
}

/**
 * Whether a new copy may record `origin`: its birth time is known, and the copy (made before the
 * origin was looked at again) was born in a later clock tick. Any inode that reuses the number
 * is created after that look, so its birth time is later than the recorded one.
 */
export function mayRecord(originBtimeNs: bigint, copyBtimeNs: bigint): boolean {
  return originBtimeNs !== 0n && copyBtimeNs > originBtimeNs;
}
