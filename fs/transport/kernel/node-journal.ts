// A journal of the node table (inodes.ts), for a daemon that takes over a FUSE connection whose
// daemon died (docs/processes.md, "When a daemon dies"): the kernel still holds the node ids the
// dead daemon handed out, so the new one must map them back to the same names, with the same
// lookup counts. The table is deterministic, so its mutating calls, replayed in order on a fresh
// table, rebuild it exactly (ids included); a snapshot (its nodes with their ids, then their
// names) stands for every call before it, so that the journal stays as long as the table is big.
// Pure but for the sink it is given; one thread (the request loop) calls it.
import { InodeTable, type Link, type Node } from './inodes.js';

/** One mutating call of the table, by node id: what replay needs. */
export type TableCall =
  | readonly ['L', number, string, boolean, string | null, boolean] // lookup(parent, name, isDir, key, shared)
  | readonly ['F', number, number] // forget(id, n)
  | readonly ['U', number, string] // unlinkName(parent, name)
  | readonly ['R', number, string, number, string] // rename(oldParent, oldName, newParent, newName)
  | readonly ['E', number, string, number, string] // exchange(parentA, nameA, parentB, nameB)
  | readonly ['K', number, string] // setKey(node, key)
  | readonly ['D', number] // detach(node)
  // A snapshot: a node with its id, kind, count, identity, whether it is detached and whether its
  // identity finds it; a name of one (most recent first, after every node); the next id.
  | readonly ['N', number, boolean, number, string | null, boolean, boolean]
  | readonly ['A', number, number, string]
  | readonly ['X', number];

/**
 * A node table that reports each call made on it from outside to `sink`, before applying it.
 * Calls the table makes on itself (lookup replacing a name unlinks it) are not reported: replaying
 * the outer call makes them again.
 */
export class JournaledInodeTable extends InodeTable {
  private depth = 0;

  constructor(private readonly sink: (call: TableCall) => void) {
    super();
  }

  private logged<T>(call: () => TableCall, apply: () => T): T {
    if (this.depth === 0) this.sink(call());
    this.depth++;
    try {
      return apply();
    } finally {
      this.depth--;
    }
  }

  override lookup(parent: Node, name: string, isDir: boolean, key?: string, shared = false): Node {
    return this.logged(() => ['L', parent.id, name, isDir, key ?? null, shared], () => super.lookup(parent, name, isDir, key, shared));
  }

  override forget(id: number, n: number): void {
    this.logged(() => ['F', id, n], () => super.forget(id, n));
  }

  override unlinkName(parent: Node, name: string): void {
    this.logged(() => ['U', parent.id, name], () => super.unlinkName(parent, name));
  }

  override rename(oldParent: Node, oldName: string, newParent: Node, newName: string): void {
    this.logged(() => ['R', oldParent.id, oldName, newParent.id, newName], () => super.rename(oldParent, oldName, newParent, newName));
  }

  override exchange(parentA: Node, nameA: string, parentB: Node, nameB: string): void {
    this.logged(() => ['E', parentA.id, nameA, parentB.id, nameB], () => super.exchange(parentA, nameA, parentB, nameB));
  }

  override setKey(node: Node, key: string): void {
    this.logged(() => ['K', node.id, key], () => super.setKey(node, key));
  }

  override detach(node: Node): Link[] {
    return this.logged(() => ['D', node.id], () => super.detach(node));
  }

  /** Apply `calls` without reporting them (they come from the journal being restored). */
  restore(calls: Iterable<TableCall>): void {
    this.depth++;
    try {
      replay(calls, this);
    } finally {
      this.depth--;
    }
  }
}

/**
 * The calls that rebuild `table` as it is now, ids and counts included, on a fresh table: every
 * node (the root's children and a detached node's count too), then every name, then the counter.
 * One at a time: a table of 35,000 nodes would make 70,000 of them.
 */
export function* snapshot(table: InodeTable): Generator<TableCall> {
  for (const n of table.all()) {
    if (n !== table.root) yield ['N', n.id, n.isDir, n.nlookup, n.key ?? null, n.detached === true, table.foundByKey(n)];
  }
  for (const n of table.all()) {
    for (const l of n.links) yield ['A', n.id, l.parent.id, l.name];
  }
  yield ['X', table.nextNodeId];
}

/**
 * Apply `calls` in order to `table` (a fresh one by default). A call naming a node the table does
 * not have means the journal is not this table's history: an Error, since serving the kernel ids
 * mapped to the wrong files would be worse than failing them.
 */
export function replay(calls: Iterable<TableCall>, table: InodeTable = new InodeTable()): InodeTable {
  const node = (id: number): Node => {
    const n = table.get(id);
    if (!n) throw new Error(`node journal: node ${id} is not in the table at this point`);
    return n;
  };
  for (const c of calls) {
    switch (c[0]) {
      case 'L': table.lookup(node(c[1]), c[2], c[3], c[4] ?? undefined, c[5]); break;
      case 'F': table.forget(c[1], c[2]); break;
      case 'U': table.unlinkName(node(c[1]), c[2]); break;
      case 'R': table.rename(node(c[1]), c[2], node(c[3]), c[4]); break;
      case 'E': table.exchange(node(c[1]), c[2], node(c[3]), c[4]); break;
      case 'K': table.setKey(node(c[1]), c[2]); break;
      case 'D': table.detach(node(c[1])); break;
      case 'N': table.restoreNode(c[1], c[2], c[3], c[4] ?? undefined, c[5], c[6]); break;
      case 'A': table.restoreLink(node(c[1]), node(c[2]), c[3]); break;
      case 'X': table.restoreNextId(c[1]); break;
    }
  }
  return table;
}

/** One journal line per call, or per record of the journal's own (JSON: names may hold any byte but '/' and NUL). */
export const encodeCall = (c: TableCall | readonly unknown[]): string => JSON.stringify(c);

/** The calls of journal text; a torn last line (the daemon killed mid-write) is dropped. */
export function decodeCalls(text: string): TableCall[] {
  const out: TableCall[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line) continue;
    try {
      out.push(JSON.parse(line) as TableCall);
    } catch (e) {
      if (i === lines.length - 1) break; // torn tail
      throw new Error(`node journal: line ${i + 1} is not a call: ${(e as Error).message}`);
    }
  }
  return out;
}
