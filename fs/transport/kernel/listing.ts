// A directory listing as READDIR serves it: `.` and `..`, then the names in the order of a stable
// cookie per name, each entry's offset its cookie (what telldir returns, what READDIR resumes
// after). Cookies depend on the name alone, as ext4's hash offsets do, so two listings of one
// directory agree on every position: the kernel's listing cache (FOPEN_CACHE_DIR), which appends
// whatever READDIR continues at its end, may mix two passes' replies and still hold each name
// once, and a pass resumed from a fresher listing neither repeats nor skips a name that stayed.
// Pure.

/** A listing, sorted by cookie (strictly increasing). */
export interface Listing {
  readonly names: readonly Buffer[];
  readonly cookies: Uint32Array;
}

const DOT = Buffer.from('.');
const DOTDOT = Buffer.from('..');
/** Cookies of `.` and `..`; names start at 8 (offset 0 is the start of the stream). */
const FIRST_NAME_COOKIE = 8;
/** Hash buckets: cookies stay below 2^31, so a 32-bit program's readdir (a signed 32-bit d_off) takes them. */
const BUCKETS = 2 ** 28 - 2;

/**
 * The listing of `names` (a directory's entries, `.` and `..` excluded). A name's cookie is
 * 8 × (its hash bucket + 1) plus its rank among names of the same bucket (by bytes): only names
 * sharing its 28-bit hash can move it, and never outside its bucket (but past 8 of them).
 */
export function listingOf(names: readonly string[]): Listing {
  const entries = names.map((n) => {
    const b = Buffer.from(n);
    return { b, base: (bucketOf(b) + 1) * 8 };
  });
  entries.sort((x, y) => x.base - y.base || Buffer.compare(x.b, y.b));
  const cookies = new Uint32Array(entries.length + 2);
  cookies[0] = 1;
  cookies[1] = 2;
  let last = FIRST_NAME_COOKIE - 1;
  for (let i = 0; i < entries.length; i++) {
    last = Math.max(entries[i]!.base, last + 1);
    cookies[i + 2] = last;
  }
  return { names: [DOT, DOTDOT, ...entries.map((e) => e.b)], cookies };
}

/** The empty directory's listing: `.` and `..` only. */
export const DOTS_ONLY: Listing = listingOf([]);

/** The index of the first entry after offset `offset` (a cookie, or 0 for the start). */
export function firstAfter(l: Listing, offset: number): number {
  let lo = 0;
  let hi = l.cookies.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (l.cookies[mid]! <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** FNV-1a over the name's bytes, mixed (murmur3's finaliser), into one of BUCKETS. */
function bucketOf(b: Buffer): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % BUCKETS;
}
