// The node table of the kernel transport: FUSE node ids <-> names in the view, with the kernel's
// lookup counts. A directory is known by its view path; a non-directory by its host identity as
// well, so that every name of a hard link is one node (one kernel inode). Pure: no I/O.
import { ROOT, type ViewPath } from '../../../src/core/paths.js';
import { ROOT_ID } from './protocol.js';

/** One name of a node: the directory it is in and its name there. */
export interface Link {
  readonly parent: Node;
  readonly name: string;
}

export interface Node {
  readonly id: number;
  readonly isDir: boolean;
  /** Lookups the kernel holds (LOOKUP, CREATE, MKDIR, ... replies minus FORGETs). */
  nlookup: number;
  /** The table's lookup clock at its last lookup (0: restored, never looked up since): the node budget prunes the oldest. */
  used: number;
  /** Names this node is known by; the first is used to reach it. Empty: unlinked (orphan). */
  links: Link[];
  /** Children known by name (directories only). */
  readonly children: Map<string, Node>;
  /** Host identity "dev:ino" of a non-directory, when known. */
  key: string | undefined;
  /** Its names went to new nodes (detach): an open of it is stale (ESTALE), other calls go by its former names. */
  detached?: boolean;
  /** A detached node's names, and the st_ino the file had: calls on its descriptors reach the file by them. */
  former?: { readonly links: readonly Link[]; readonly ino: number };
  /** Opened with FUSE passthrough once: the kernel inode's page cache may be stale (passthrough.ts). */
  passthroughUsed?: boolean;
}

/**
 * The children of every non-directory: one shared empty map that refuses additions. A map of its
 * own per file cost ~200 bytes a node, and the table holds every name the kernel remembers (35,000
 * after a tar -x of /usr/include and an apt-get install, the daemon's largest structure).
 */
class NoChildren extends Map<string, Node> {
  override set(): this {
    throw new Error('InodeTable: a non-directory has no children');
  }
}
const NO_CHILDREN: Map<string, Node> = new NoChildren();

export class InodeTable {
  private readonly nodes = new Map<number, Node>();
  private readonly byKey = new Map<string, Node>();
  private nextId = ROOT_ID + 1;
  /** Lookups counted so far: each node's `used` is this clock at its last lookup. */
  private clock = 0;
  private droppedCount = 0;
  readonly root: Node;

  constructor() {
    this.root = { id: ROOT_ID, isDir: true, nlookup: 1, used: 0, links: [], children: new Map(), key: undefined };
    this.nodes.set(ROOT_ID, this.root);
  }

  /** Nodes in the table (the root included): the kernel's lookups not yet forgotten, plus their parents. */
  get size(): number {
    return this.nodes.size;
  }

  get(id: number): Node | undefined {
    return this.nodes.get(id);
  }

  /** Every node in the table, the root first. */
  all(): IterableIterator<Node> {
    return this.nodes.values();
  }

  /** The view path a node is reached by; undefined for a node (or an ancestor) that was unlinked. */
  pathOf(node: Node): ViewPath | undefined {
    if (node === this.root) return ROOT;
    const parts: string[] = [];
    for (let n: Node = node; n !== this.root;) {
      const l = n.links[0];
      if (!l) return undefined;
      parts.push(l.name);
      n = l.parent;
    }
    return ('/' + parts.reverse().join('/')) as ViewPath;
  }

  /** The path of `name` inside `parent`. */
  childPath(parent: Node, name: string): ViewPath | undefined {
    const p = this.pathOf(parent);
    if (p === undefined) return undefined;
    return (p === ROOT ? '/' + name : p + '/' + name) as ViewPath;
  }

  /**
   * Record one kernel lookup of `name` in `parent`, an object that is a directory or not and,
   * for a non-directory, has host identity `key`. Returns the node (counted once more). A name
   * that now shows a different object gets a new node; a non-directory already known under another
   * name (a hard link: `shared`, its link count is above 1) is the same node.
   */
  lookup(parent: Node, name: string, isDir: boolean, key?: string, shared = false): Node {
    let node = parent.children.get(name);
    if (node && (node.isDir !== isDir || (!isDir && key !== undefined && node.key !== undefined && node.key !== key))) {
      this.dropName(parent, name); // not the parent, which gets the new node at once
      node = undefined;
    }
    if (!node && !isDir && key !== undefined && shared) {
      const known = this.byKey.get(key);
      if (known && !known.isDir) {
        node = known;
        this.addLink(node, parent, name);
      }
    }
    if (!node) {
      node = { id: this.nextId++, isDir, nlookup: 0, used: 0, links: [], children: isDir ? new Map() : NO_CHILDREN, key: undefined };
      this.nodes.set(node.id, node);
      this.addLink(node, parent, name);
    }
    if (!isDir && key !== undefined) this.setKey(node, key);
    node.nlookup++;
    node.used = ++this.clock;
    return node;
  }

  /** Count `node` as used now, as a lookup would (without counting a lookup). */
  touch(node: Node): void {
    node.used = ++this.clock;
  }

  /** Nodes the table has let go so far (forgotten, or unlinked while not held). */
  get dropped(): number {
    return this.droppedCount;
  }

  /** The lookup clock now (the `used` of the node looked up last). */
  get lookups(): number {
    return this.clock;
  }

  /** The id the next new node gets (a journal's snapshot keeps it: node-journal.ts). */
  get nextNodeId(): number {
    return this.nextId;
  }

  /**
   * Put back a node of a snapshot (node-journal.ts): its id, kind, lookup count and identity
   * (`byKey`: the one that identity finds), no names yet (restoreLink gives them). The root stays
   * as it is. Ids up to this one are not handed out again.
   */
  restoreNode(id: number, isDir: boolean, nlookup: number, key: string | undefined, detached = false, byKey = !detached): Node {
    if (id === ROOT_ID) return this.root;
    if (this.nodes.has(id)) throw new Error(`InodeTable: node ${id} restored twice`);
    const node: Node = { id, isDir, nlookup, used: 0, links: [], children: isDir ? new Map() : NO_CHILDREN, key: undefined };
    if (detached) node.detached = true;
    this.nodes.set(id, node);
    if (key !== undefined) {
      node.key = key;
      if (byKey) this.byKey.set(key, node);
    }
    this.restoreNextId(id + 1);
    return node;
  }

  /** Whether `node` is the one its host identity finds (a hard link's other names join it). */
  foundByKey(node: Node): boolean {
    return node.key !== undefined && this.byKey.get(node.key) === node;
  }

  /** Give a restored node one more name, after those it has (a snapshot lists them most recent first). */
  restoreLink(node: Node, parent: Node, name: string): void {
    parent.children.set(name, node);
    node.links = [...node.links, { parent, name }];
  }

  /** New nodes get ids from `next` on (a snapshot's counter), never one handed out before. */
  restoreNextId(next: number): void {
    if (next > this.nextId) this.nextId = next;
  }

  /** A non-directory's host identity changed under us (our own copy-up): keep the node. */
  setKey(node: Node, key: string): void {
    if (node.key === key) return;
    if (node.key !== undefined && this.byKey.get(node.key) === node) this.byKey.delete(node.key);
    node.key = key;
    this.byKey.set(key, node);
  }

  /**
   * Give `node`'s names to new nodes at their next lookup: it keeps the kernel's lookups and its
   * open files, as an unlinked node does, and is marked `detached` (its names still exist). For a
   * file copied up under open passthrough handles of its old copy (passthrough.ts).
   */
  detach(node: Node): Link[] {
    const links = node.links;
    node.links = [];
    node.detached = true;
    if (node.key !== undefined && this.byKey.get(node.key) === node) this.byKey.delete(node.key);
    for (const l of links) {
      if (l.parent.children.get(l.name) === node) l.parent.children.delete(l.name);
      this.dropIfUnused(l.parent);
    }
    return links;
  }

  /** The kernel dropped `n` lookups of node `id` (FORGET). */
  forget(id: number, n: number): void {
    const node = this.nodes.get(id);
    if (!node || node === this.root) return;
    node.nlookup = Math.max(0, node.nlookup - n);
    this.dropIfUnused(node);
  }

  /** `name` in `parent` no longer exists (unlink, rmdir, or replaced by a rename). */
  unlinkName(parent: Node, name: string): void {
    if (this.dropName(parent, name)) this.dropIfUnused(parent);
  }

  /** unlinkName, but `parent` stays even if nothing holds it now. False: no such name. */
  private dropName(parent: Node, name: string): boolean {
    const node = parent.children.get(name);
    if (!node) return false;
    parent.children.delete(name);
    node.links = node.links.filter((l) => !(l.parent === parent && l.name === name));
    this.dropIfUnused(node);
    return true;
  }

  /** `oldName` in `oldParent` was renamed to `newName` in `newParent` (which it replaced, if it existed). */
  rename(oldParent: Node, oldName: string, newParent: Node, newName: string): void {
    const node = oldParent.children.get(oldName);
    if (!node) {
      this.unlinkName(newParent, newName);
      return;
    }
    if (newParent.children.get(newName) === node) return; // the same object: the kernel moves nothing
    this.dropName(newParent, newName); // not newParent, which gets `node` at once
    oldParent.children.delete(oldName);
    node.links = node.links.filter((l) => !(l.parent === oldParent && l.name === oldName));
    this.addLink(node, newParent, newName);
    this.dropIfUnused(oldParent);
  }

  /**
   * The nodes of `nameA` in `parentA` and `nameB` in `parentB` swapped names (RENAME_EXCHANGE);
   * a name the table does not know leaves the other name unknown.
   */
  exchange(parentA: Node, nameA: string, parentB: Node, nameB: string): void {
    const a = parentA.children.get(nameA);
    const b = parentB.children.get(nameB);
    if (a === b) return; // one node under both names (or neither known): nothing moves
    for (const [parent, name, node] of [[parentA, nameA, a], [parentB, nameB, b]] as const) {
      if (!node) continue;
      parent.children.delete(name);
      node.links = node.links.filter((l) => !(l.parent === parent && l.name === name));
    }
    if (a) this.addLink(a, parentB, nameB);
    if (b) this.addLink(b, parentA, nameA);
    this.dropIfUnused(parentA);
    this.dropIfUnused(parentB);
  }

  private addLink(node: Node, parent: Node, name: string): void {
    const old = parent.children.get(name);
    if (old === node) return;
    if (old) this.dropName(parent, name);
    parent.children.set(name, node);
    // The most recent name first: it is the one that most surely still exists. A new array of the
    // exact size: unshift into an empty one reserves room for 17 (~140 bytes a node, kept).
    node.links = [{ parent, name }, ...node.links];
  }

  /**
   * Drop a node the kernel no longer knows and that no known child hangs from. Its names go, and
   * its parent may follow (a directory kept only because of this child).
   */
  private dropIfUnused(node: Node): void {
    if (node === this.root || node.nlookup > 0 || node.children.size > 0 || !this.nodes.has(node.id)) return;
    this.nodes.delete(node.id);
    this.droppedCount++;
    if (node.key !== undefined && this.byKey.get(node.key) === node) this.byKey.delete(node.key);
    const links = node.links;
    node.links = [];
    for (const l of links) {
      if (l.parent.children.get(l.name) === node) l.parent.children.delete(l.name);
      this.dropIfUnused(l.parent);
    }
  }
}
