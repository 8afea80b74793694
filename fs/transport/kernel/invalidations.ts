// What the kernel may be caching of this view, and the notifications that make it forget: all of
// it (a reload), or the names a lower-layer change touched and everything below them.
// Pure: builds NOTIFY_INVAL_INODE / NOTIFY_INVAL_ENTRY messages, writes nothing.
import type { ViewChange } from '../../../src/core/layer-change.js';
import type { InodeTable, Node } from './inodes.js';
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
   * Everything (a reload, a takeover). Names are only expired (`expireOnly`) when the kernel can, so
   * that nothing mounted on them inside a world is detached (a plain invalidation d_invalidate()s,
   * which unmounts); without it, directory names are left to their timeout (their node id never
   * changes, so they stay right). Made one at a time as they are written: a table of 125,000 nodes
   * makes 250,000 messages, 40 MB if held at once. The nodes are those of the table when each is
   * reached.
   */
  *each(expireOnly: boolean): Generator<Buffer> {
    const negatives = [...this.negatives.values()];
    this.negatives.clear();
    for (const node of this.nodes.all()) {
      yield encodeInvalInode(node.id, 0, 0);
      for (const l of node.links) {
        if (expireOnly) yield encodeInvalEntry(l.parent.id, l.name, EXPIRE_ONLY);
        else if (!node.isDir) yield encodeInvalEntry(l.parent.id, l.name);
      }
    }
    for (const n of negatives) yield encodeInvalEntry(n.parent, n.name, expireOnly ? EXPIRE_ONLY : 0);
  }

  /**
   * What the kernel may cache of the changed names: for each, the directory's attributes, the
   * name (positive or negative), and the named node with every node known below it (a directory
   * replaced or re-merged keeps its node id, so its children's names would otherwise stay). Names
   * of directories follow `all`'s rule (expired, or left when the kernel cannot expire only).
   * Directories the kernel does not know hold nothing it caches: they are skipped. A content-only
   * change of a known non-directory invalidates just its node (attributes and pages).
   */
  forChanges(changes: readonly ViewChange[], expireOnly: boolean): Buffer[] {
    const out: Buffer[] = [];
    const seen = new Set<Node>();
    const dirsDone = new Set<Node>();
    const flags = expireOnly ? EXPIRE_ONLY : 0;
    const name = (parent: Node, n: string, child: Node | undefined) => {
      if (expireOnly || !child?.isDir) out.push(encodeInvalEntry(parent.id, n, flags));
    };
    const below = (node: Node) => {
      if (seen.has(node)) return;
      seen.add(node);
      out.push(encodeInvalInode(node.id, 0, 0));
      for (const [n, c] of node.children) {
        name(node, n, c);
        below(c);
      }
    };
    for (const c of changes) {
      const dir = nodeAt(this.nodes, c.dir);
      if (dir === undefined) continue;
      if (c.name === undefined) {
        below(dir);
        continue;
      }
      const child = dir.children.get(c.name);
      // Written or chmod'ed: the name stands, only the object's attributes and pages go.
      if (c.contentOnly && child !== undefined && !child.isDir) {
        if (!seen.has(child)) out.push(encodeInvalInode(child.id, 0, 0));
        seen.add(child);
        // A lower file's other names are nodes of their own (until both are in the top layer).
        if (c.key !== undefined) {
          for (const n of this.nodes.all()) {
            if (n.key === c.key && !seen.has(n)) out.push(encodeInvalInode(n.id, 0, 0));
            if (n.key === c.key) seen.add(n);
          }
        }
        continue;
      }
      if (!seen.has(dir) && !dirsDone.has(dir)) out.push(encodeInvalInode(dir.id, 0, 0));
      dirsDone.add(dir);
      name(dir, c.name, child);
      this.negatives.delete(`${dir.id}/${c.name}`);
      if (child) below(child);
    }
    return out;
  }
}

/** The node of view directory `rel` (relative to the root, '' for it) if the table knows it. */
export function nodeAt(nodes: InodeTable, rel: string): Node | undefined {
  let n: Node | undefined = nodes.root;
  if (rel === '') return n;
  for (const part of rel.split('/')) {
    n = n.children.get(part);
    if (n === undefined) return undefined;
  }
  return n;
}
