// Files the kernel opens itself (open=kernel). The first OPEN (or CREATE) decides, for the
// connection's life: where every layer's changes are reported, OPEN is answered ENOSYS and the
// kernel opens files without asking us (fc->no_open): no OPEN and no RELEASE per open(2), page
// cache kept across opens, and READ, WRITE, FSYNC and FALLOCATE come with fh 0. They are served
// here through a handle per node, of the node's current copy, opened on demand and kept: at most
// `max` of them, the least recently used closed first. A write copies the node up first, as a
// write open does otherwise. A node whose last name goes while the kernel holds it (it may be
// open) keeps a handle until FORGET: fstat, read and write of an unlinked open file still work.
// The trade: no passthrough, so file data goes through the daemon. The kernel's own opens read
// and write through the inode's page cache, which a passthrough write beside them (a CREATE's
// handle) would go around: a reader's cached pages would go stale.
import type { Node } from './inodes.js';
import { KernelOpens } from './kernel-opens.js';

interface Kept {
  readonly node: Node;
  readonly fh: number;
  readonly writable: boolean;
  /** The node's key (host dev:ino) when the handle was opened: another key means another copy. */
  readonly key: string | undefined;
}

/** How a handle is opened and closed (WorldFs through OpContext): the caller's. */
export interface NodeFileHost {
  /** Open `node`'s current copy, read-write (copied up first) or read-only; the node is rekeyed after. */
  open(node: Node, writable: boolean): number;
  /** A read-write handle of the file `fh` is open on, for a node with no name left (a lower file gets a private copy). */
  reopenWritable(fh: number, node: Node): number;
  release(fh: number): void;
}

export class NodeFiles {
  /** By node id, least recently used first (a Map keeps insertion order). */
  private readonly kept = new Map<number, Kept>();
  /** Whether the kernel opens files itself: offered at INIT, decided at the first OPEN or CREATE. */
  readonly opens = new KernelOpens();
  /** Handles opened and closed here (stats, tests). */
  readonly counters = { opened: 0, evicted: 0 };

  /** `wanted`: the mount asked for open=kernel. */
  constructor(private readonly host: NodeFileHost, private readonly wanted: boolean, private readonly max = 256) {}

  /**
   * Whether the kernel opens files itself, decided once: the mount asked for it, the kernel can,
   * and every layer's changes are reported (the kernel keeps every file's pages across opens).
   */
  opensItself(allNotified: boolean): boolean {
    return this.opens.decide(this.wanted && allNotified);
  }

  /**
   * A handle of `node`'s current copy, writable if asked (the host copies the node up for that).
   * A kept one serves while its copy is the node's (same key) or the node has no name left.
   */
  handle(node: Node, writable: boolean): number {
    const k = this.kept.get(node.id);
    if (k && (k.writable || !writable) && (k.key === node.key || node.links.length === 0)) {
      this.kept.delete(node.id); // to the most recently used end
      this.kept.set(node.id, k);
      return k.fh;
    }
    // A node with no name left is reached through its kept handle only.
    const fh = k && node.links.length === 0 ? this.host.reopenWritable(k.fh, node) : this.host.open(node, writable);
    if (k) this.drop(node);
    this.counters.opened++;
    this.kept.set(node.id, { node, fh, writable, key: node.key });
    if (this.kept.size > this.max) this.evict();
    return fh;
  }

  /** `fh`, a read-write handle of `node`'s current copy made elsewhere (CREATE), is the node's own now. */
  adopt(node: Node, fh: number): void {
    this.drop(node);
    this.kept.set(node.id, { node, fh, writable: true, key: node.key });
    if (this.kept.size > this.max) this.evict();
  }

  /** The kept handle of `node` if it is writable and of the node's current copy (no copy-up needed). */
  writableOf(node: Node): number | undefined {
    const k = this.kept.get(node.id);
    return k && k.writable && (k.key === node.key || node.links.length === 0) ? this.handle(node, true) : undefined;
  }

  /** The kept handle of `node`, if any (fsync of a file written through it). */
  keptOf(node: Node): number | undefined {
    return this.kept.get(node.id)?.fh;
  }

  /**
   * `node`'s last name is about to go while the kernel may hold it open: keep a handle of it
   * (`writable` where its copy is the top layer's own), so it stays reachable until FORGET.
   * Best effort: a file the daemon cannot open stays unreachable once unlinked.
   */
  keepAlive(node: Node, writable: boolean): void {
    if (node.isDir || node.nlookup === 0 || this.kept.has(node.id)) return;
    try {
      this.handle(node, writable);
    } catch { /* unreadable by the daemon (rootless): nothing kept */ }
  }

  /** Close `node`'s handle (FORGET: the kernel holds it no more). */
  drop(node: Node | number): void {
    const id = typeof node === 'number' ? node : node.id;
    const k = this.kept.get(id);
    if (!k) return;
    this.kept.delete(id);
    this.host.release(k.fh);
  }

  /** Close the least recently used handles of named nodes until `max` are kept. */
  private evict(): void {
    for (const [id, k] of this.kept) {
      if (this.kept.size <= this.max) return;
      if (k.node.links.length === 0) continue; // unlinked: its only way in
      this.kept.delete(id);
      this.counters.evicted++;
      this.host.release(k.fh);
    }
  }

  get size(): number {
    return this.kept.size;
  }
}
