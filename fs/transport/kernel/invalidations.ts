// What the kernel may be caching of this view, and the notifications that make it forget:
// every known inode's attributes and pages, every known name, every recent negative entry.
// Pure: builds NOTIFY_INVAL_INODE / NOTIFY_INVAL_ENTRY messages, writes nothing.
import type { InodeTable } from './inodes.js';
import { EXPIRE_ONLY, encodeInvalEntry, encodeInvalInode } from './protocol.js';

/** Negative entries remembered for invalidation; older ones are left to their timeout. */
const MAX_NEGATIVES = 4096;

export class CacheLedger {
  /** Names recently answered "no such entry" (the kernel caches them): a reload must expire them too. */
  private readonly negatives = new Map<string, { parent: number; name: string }>();

  constructor(private readonly nodes: InodeTable) {}

  /** The kernel was told `name` does not exist in node `parent`. */
  rememberNegative(parent: number, name: string): void {
    const key = `${parent}/${name}`;
    this.negatives.delete(key);
    this.negatives.set(key, { parent, name });
    if (this.negatives.size > MAX_NEGATIVES) this.negatives.delete(this.negatives.keys().next().value!);
  }

  /**
   * Everything at once (a reload). Names are only expired (`expireOnly`) when the kernel can, so
   * that nothing mounted on them inside a world is detached (a plain invalidation d_invalidate()s,
   * which unmounts); without it, directory names are left to their timeout (their node id never
   * changes, so they stay right).
   */
  all(expireOnly: boolean): Buffer[] {
    const out: Buffer[] = [];
    for (const node of this.nodes.all()) {
      out.push(encodeInvalInode(node.id, 0, 0));
      for (const l of node.links) {
        if (expireOnly) out.push(encodeInvalEntry(l.parent.id, l.name, EXPIRE_ONLY));
        else if (!node.isDir) out.push(encodeInvalEntry(l.parent.id, l.name));
      }
    }
    for (const n of this.negatives.values()) out.push(encodeInvalEntry(n.parent, n.name, expireOnly ? EXPIRE_ONLY : 0));
    this.negatives.clear();
    return out;
  }
}
