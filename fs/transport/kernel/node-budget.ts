// The node budget: the node table holds a node for every inode the kernel remembers, and the
// kernel forgets inodes only under memory pressure, so a `find / -xdev` in a world over / left
// 600,797 nodes and 432 MiB in its daemon. Past `max` nodes, the ones looked up longest ago are offered
// back to the kernel (FUSE_NOTIFY_PRUNE, protocol 7.45, Linux 6.18+): it drops each one nothing
// uses and FORGETs it, and the table lets it go (inodes.ts). What anything uses stays, decided by
// the kernel itself (d_prune_aliases takes only dentries with no reference): an open file, a
// working directory, a mount on it inside a world, a directory with cached entries. Unlike
// NOTIFY_INVAL_ENTRY (d_invalidate), a prune never detaches a mount. A pruned name costs one
// LOOKUP at its next use, and its cached pages go with the inode.
// Only the selection is pure (`coldest`); the class writes through the device.
import type { InodeTable, Node } from './inodes.js';
import { encodePrune } from './protocol.js';

/** A round prunes down to this share of the budget, so that rounds are rare. */
export const LOW_WATER = 0.75;
/** Rounds are at least this far apart, and never two at once (the FORGETs of one come first). */
export const MIN_GAP_MS = 50;
/**
 * While rounds free nothing (no node left the table since the last one: whatever is over the
 * budget is in use), the gap doubles up to this: a scan of 132,000 nodes takes 6-37 ms.
 */
export const MAX_GAP_MS = 5000;
/** Node ids per notification (32 KiB; the kernel takes them 512 at a time). */
export const IDS_PER_NOTICE = 4096;
/** Buckets of the lookup clock for picking the coldest nodes without sorting them all. */
const BUCKETS = 1024;

/**
 * The `count` nodes looked up longest ago (`used`) that the kernel might let go: not the root,
 * still held by the kernel (nlookup > 0), with no child known here (a directory's cached entries
 * would keep it anyway), and not `inUse` (open handles: the kernel would refuse). O(n): one pass
 * for a histogram of `used`, one to collect, a sort of one bucket only.
 */
export function coldest(nodes: Iterable<Node>, root: Node, count: number, clock: number, inUse: (n: Node) => boolean): Node[] {
  if (count <= 0) return [];
  const eligible: Node[] = [];
  for (const n of nodes) if (n !== root && n.nlookup > 0 && n.children.size === 0 && !inUse(n)) eligible.push(n);
  if (eligible.length <= count) return eligible;
  const width = Math.max(1, Math.ceil((clock + 1) / BUCKETS));
  const bucketOf = (n: Node) => Math.min(BUCKETS - 1, Math.floor(n.used / width));
  const hist = new Uint32Array(BUCKETS);
  for (const n of eligible) hist[bucketOf(n)]!++;
  let edge = 0;
  for (let below = 0; below + hist[edge]! < count; edge++) below += hist[edge]!;
  const out: Node[] = [];
  const boundary: Node[] = [];
  for (const n of eligible) {
    const b = bucketOf(n);
    if (b < edge) out.push(n);
    else if (b === edge) boundary.push(n);
  }
  boundary.sort((a, b) => a.used - b.used);
  for (const n of boundary) {
    if (out.length >= count) break;
    out.push(n);
  }
  return out;
}

/** Writes notifications; `onError` gets a failed write's error (otherwise logged). Resolves once written. */
export type Tell = (notices: Buffer[], onError: (e: NodeJS.ErrnoException) => void) => Promise<void>;

export class NodeBudget {
  /** Rounds made and nodes offered in them (SIGUSR2's stats). */
  readonly counters = { pruneRounds: 0, pruneOffered: 0 };
  private inFlight = false;
  private lastAt = -Infinity;
  /** Nodes the table had let go when the last round was made, and the gap the next one waits for. */
  private droppedAtLast = -1;
  private gap = MIN_GAP_MS;
  /** The kernel has no NOTIFY_PRUNE (EINVAL): the table is not bounded. */
  private unsupported = false;

  /**
   * `max`: nodes past which rounds are made (0: never). `inUse`: nodes with open handles.
   * `now`: a clock in ms (tests give their own).
   */
  constructor(
    readonly max: number, private readonly nodes: InodeTable, private readonly inUse: (n: Node) => boolean,
    private readonly tell: Tell, private readonly now: () => number = () => performance.now(),
  ) {}

  /** Whether rounds can be made (a budget, and a kernel that prunes). */
  get active(): boolean {
    return this.max > 0 && !this.unsupported;
  }

  /** After each request: past the budget, and no round in flight or too recent, offer the coldest nodes. */
  check(): void {
    if (this.nodes.size <= this.max || this.max === 0 || this.inFlight || this.unsupported) return;
    const t = this.now();
    if (t - this.lastAt < this.gap) return;
    const dropped = this.nodes.dropped;
    this.gap = dropped > this.droppedAtLast ? MIN_GAP_MS : Math.min(MAX_GAP_MS, 2 * this.gap);
    this.lastAt = t;
    this.droppedAtLast = dropped;
    const size = this.nodes.size;
    const want = size - Math.floor(this.max * LOW_WATER);
    const picked = coldest(this.nodes.all(), this.nodes.root, want, this.nodes.lookups, this.inUse);
    if (picked.length === 0) return;
    // Offered ones count as used now: until their FORGETs come, and for those the kernel keeps
    // (in use after all), the next round offers others first.
    for (const n of picked) this.nodes.touch(n);
    const notices: Buffer[] = [];
    for (let i = 0; i < picked.length; i += IDS_PER_NOTICE) {
      notices.push(encodePrune(picked.slice(i, i + IDS_PER_NOTICE).map((n) => n.id)));
    }
    this.counters.pruneRounds++;
    this.counters.pruneOffered += picked.length;
    this.inFlight = true;
    void this.tell(notices, (e) => {
      if (e.code === 'EINVAL' && !this.unsupported) {
        this.unsupported = true;
        process.stderr.write('worldfs: this kernel cannot prune inodes (FUSE_NOTIFY_PRUNE, Linux 6.18+): the node table grows with what the kernel caches\n');
      } else if (e.code !== 'EINVAL') {
        process.stderr.write(`worldfs: pruning inodes failed: ${e.message}\n`);
      }
    }).then(() => { this.inFlight = false; });
  }
}
