// The node each open file handle (OPEN, CREATE until RELEASE) was opened on, and each node's open
// handles: a file whose every name is gone is reached only through them (fstat, fchmod of an
// unlinked file), and a file open in the top layer is changed through them (ops-attrs.ts).
import type { Node } from './inodes.js';

export class OpenNodes {
  private readonly nodeOf = new Map<number, Node>();
  private readonly handles = new Map<Node, number[]>();

  add(fh: number, node: Node): void {
    this.nodeOf.set(fh, node);
    const hs = this.handles.get(node);
    if (hs) hs.push(fh);
    else this.handles.set(node, [fh]);
  }

  remove(fh: number): void {
    const node = this.nodeOf.get(fh);
    if (!node) return;
    this.nodeOf.delete(fh);
    const hs = this.handles.get(node)!;
    hs.splice(hs.indexOf(fh), 1);
    if (hs.length === 0) this.handles.delete(node);
  }

  /** The open handles of `node`, in the order they were opened. */
  of(node: Node): readonly number[] {
    return this.handles.get(node) ?? [];
  }
}
