// Listings of directories the kernel opens without us (OPENDIR answered ENOSYS: dirs.ts): READDIR
// then comes with fh 0, so a pass over a directory is known only by its node. A listing read from
// offset 0 is kept for later offsets (NodeListings); and while not every change is reported, the
// listings the kernel may keep are invalidated every fallback timeout (ListingSweep), since no
// open of theirs reaches us to drop them. Main thread only.
import type { Listing } from './listing.js';
import { encodeInvalInode } from './protocol.js';

/** Listings kept at most (the least recently read goes first)... */
const MAX_LISTINGS = 256;
/** ...and names kept in all (the newest listing stays, however big). */
const MAX_NAMES = 256 * 1024;
/** The longest a timer waits (setTimeout fires at once past it). */
const MAX_DELAY_MS = 2 ** 31 - 1;

/**
 * The listing each directory's pass reads: taken when a pass reads offset 0 (a fresh open, a
 * rewinddir) and read by later offsets, until a pass reaches the end. Offsets are cookies that
 * every listing of the directory agrees on (listing.ts), so this is only a saving: a pass whose
 * listing was replaced by another pass's, or evicted (then listed afresh), still sees each name
 * that stayed exactly once.
 */
export class NodeListings {
  private readonly kept = new Map<number, Listing>();
  /** Names held in all listings. */
  private held = 0;

  /** The listing of directory `node` at `offset` (0: afresh); `list` lists its names. */
  at(node: number, offset: number, list: () => Listing): Listing {
    const old = this.drop(node);
    const l = offset === 0 || old === undefined ? list() : old;
    this.kept.set(node, l);
    this.held += l.names.length;
    this.evict();
    return l;
  }

  /** A pass over `node` reached the end: its listing need not be kept. */
  done(node: number): void {
    this.drop(node);
  }

  /** Listings kept now (stats: what a leak would grow). */
  get size(): number {
    return this.kept.size;
  }

  private evict(): void {
    while (this.kept.size > MAX_LISTINGS || (this.held > MAX_NAMES && this.kept.size > 1)) {
      this.drop(this.kept.keys().next().value!);
    }
  }

  /** Stop keeping `node`'s listing: the listing, if one was kept. */
  private drop(node: number): Listing | undefined {
    const l = this.kept.get(node);
    if (l === undefined) return undefined;
    this.kept.delete(node);
    this.held -= l.names.length;
    return l;
  }
}

/**
 * Bounds how long the kernel keeps listings once their changes are no longer all reported (the
 * watch degraded, or a reload to a stack not wholly watched). Without OPENDIR every open keeps
 * the cached listing (FOPEN_KEEP_CACHE|FOPEN_CACHE_DIR), so the directories whose READDIR was
 * answered are remembered and invalidated (NOTIFY_INVAL_INODE: their pages, which hold the listing)
 * at most `seconds` after it: the bound timeout= gives the kernel's other caches. Every listing
 * the kernel kept before was dropped when notification stopped (degraded() and a reload
 * invalidate everything).
 */
export class ListingSweep {
  private readonly served = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  /** Directory invalidations sent (stats, tests). */
  swept = 0;

  /** READDIR of `node` was answered: the kernel may keep its listing; drop it within `seconds`. */
  add(node: number, seconds: number, notify: ((notices: Buffer[]) => void) | undefined): void {
    this.served.add(node);
    if (this.timer !== undefined || notify === undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const nodes = [...this.served];
      this.served.clear();
      this.swept += nodes.length;
      // A forgotten node's invalidation is refused (ENOENT) and ignored: nothing cached is left.
      notify(nodes.map((n) => encodeInvalInode(n, 0, 0)));
    }, Math.min(Math.max(0, seconds) * 1000, MAX_DELAY_MS));
    this.timer.unref(); // a late one after unmount is dropped (FuseDevice.notify)
  }
}
