// Listings of directories the kernel opens without us (OPENDIR answered ENOSYS: dirs.ts): READDIR
// then comes with fh 0, so a pass over a directory is known only by its node and its caller. A
// listing read from offset 0 is kept for the later offsets of that pass (NodeListings); and while
// not every change is reported, the listings the kernel may keep are invalidated every fallback
// timeout (ListingSweep), since no open of theirs reaches us to drop them. Main thread only.
import { encodeInvalInode } from './protocol.js';

/** Passes kept at most (the least recently read goes first)... */
const MAX_PASSES = 256;
/** ...and names kept in all (the newest pass stays, however big). */
const MAX_NAMES = 256 * 1024;

/**
 * Snapshots of listings by (node, caller): a pass that reads offset 0 takes one, later offsets of
 * the same pass read it, so names neither repeat nor vanish while a program reads, as with a
 * listing per open directory. The caller (the thread that asked, `fuse_in_header.pid`) keeps
 * two programs' passes over one directory apart. An offset with no snapshot (evicted, or read by
 * another thread than the one that started) is listed afresh and kept from there.
 */
export class NodeListings {
  private readonly passes = new Map<string, readonly Buffer[]>();
  /** Names held in all passes. */
  private held = 0;

  /** The names of `node`'s listing as the pass of `caller` at `offset` sees them; `list` lists afresh. */
  namesOf(node: number, caller: number, offset: number, list: () => readonly string[]): readonly Buffer[] {
    const key = `${node}:${caller}`;
    const kept = this.passes.get(key);
    if (kept !== undefined) {
      this.passes.delete(key);
      this.held -= kept.length;
    }
    const names = offset === 0 || kept === undefined ? list().map((n) => Buffer.from(n)) : kept;
    this.passes.set(key, names);
    this.held += names.length;
    this.evict();
    return names;
  }

  /** The pass of `caller` over `node` reached its end: nothing more to keep for it. */
  done(node: number, caller: number): void {
    const key = `${node}:${caller}`;
    const kept = this.passes.get(key);
    if (kept === undefined) return;
    this.passes.delete(key);
    this.held -= kept.length;
  }

  /** Passes kept now (stats: what a leak would grow). */
  get size(): number {
    return this.passes.size;
  }

  private evict(): void {
    while (this.passes.size > MAX_PASSES || (this.held > MAX_NAMES && this.passes.size > 1)) {
      const [key, names] = this.passes.entries().next().value!;
      this.passes.delete(key);
      this.held -= names.length;
    }
  }
}

/**
 * Bounds how long the kernel keeps listings once their changes are no longer all reported (the
 * watch degraded, or a reload to a stack not wholly watched). Without OPENDIR every open keeps
 * the cached listing (FOPEN_KEEP_CACHE|FOPEN_CACHE_DIR), so the directories whose READDIR was
 * answered are remembered and invalidated (NOTIFY_INVAL_INODE: their pages, which hold the listing)
 * at most `seconds` after it: the bound timeout= gives the kernel's other caches. Every listing
 * the kernel kept before was dropped when notification stopped (the reload's invalidation).
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
    }, Math.max(0, seconds) * 1000);
    this.timer.unref(); // a late one after unmount is dropped (FuseDevice.notify)
  }
}
