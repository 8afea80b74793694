// Open directories of the kernel transport: a listing taken when a directory stream starts (or
// is rewound), served by offset (listing.ts), so entries neither repeat nor vanish while a program
// reads. Or, once every layer's changes are reported at the first OPENDIR, no handles at all:
// OPENDIR is answered ENOSYS, the kernel opens directories itself for good (fc->no_opendir) and
// keeps their listings, and READDIR comes with fh 0, served by node (node-listings.ts).
import type { ViewPath } from '../../../src/core/paths.js';
import { KernelOpens } from './kernel-opens.js';
import { DOTS_ONLY, listingOf, type Listing } from './listing.js';
import { ListingSweep, NodeListings } from './node-listings.js';

interface OpenDir {
  /** Undefined for a removed directory: it lists `.` and `..` only. */
  readonly path: ViewPath | undefined;
  listing: Listing | undefined;
}

export class DirHandles {
  private readonly dirs = new Map<number, OpenDir>();
  private next = 1;
  /** Whether the kernel opens directories itself: offered at INIT, decided at the first OPENDIR. */
  readonly opens = new KernelOpens();
  /** Listings by node, for READDIR with fh 0. */
  readonly byNode = new NodeListings();
  /** Listings the kernel keeps while their changes are not all reported, invalidated in time. */
  readonly sweep = new ListingSweep();
  /** OPENDIR and RELEASEDIR requests seen (stats). */
  readonly counters = { opendirs: 0, releasedirs: 0 };

  /**
   * Whether this OPENDIR is to be answered ENOSYS. The first one decides: yes when the kernel can
   * open directories itself and `listingsNotified` (every layer's changes invalidate the listings
   * it keeps). Later ones follow: a handle granted before the switch would never be released
   * (the kernel skips RELEASEDIR once it opens directories itself), and one refused after it is
   * an OPENDIR sent before the kernel read our first ENOSYS.
   */
  opensItself(listingsNotified: boolean): boolean {
    return this.opens.decide(listingsNotified);
  }

  open(path: ViewPath | undefined): number {
    while (this.dirs.has(this.next) || this.next === 0) this.next = (this.next + 1) >>> 0;
    const id = this.next;
    this.next = (this.next + 1) >>> 0;
    this.dirs.set(id, { path, listing: undefined });
    return id;
  }

  /**
   * The listing of directory stream `id`, its names listed by `list` at offset 0 (a fresh stream
   * or a rewinddir) and kept for later offsets. Undefined for an unknown handle.
   */
  listing(id: number, offset: number, list: (path: ViewPath) => readonly string[]): Listing | undefined {
    const d = this.dirs.get(id);
    if (!d) return undefined;
    if (offset === 0 || d.listing === undefined) d.listing = d.path === undefined ? DOTS_ONLY : listingOf(list(d.path));
    return d.listing;
  }

  release(id: number): void {
    this.dirs.delete(id);
  }

  /** Open directory streams (handles granted and not released). */
  get size(): number {
    return this.dirs.size;
  }
}
