// What every kernel-transport operation works with: the node table, open directories, the cache
// ledger, the WorldFs behind them, and the small steps they share (node ids to view paths, entry
// and attribute replies, following a node through copy-up, waiting for a staged copy-up).
import { constants as fsConstants } from 'node:fs';
import { fsError, isFsError } from '../../../src/core/errors.js';
import { NAME_MAX, type ViewPath } from '../../../src/core/paths.js';
import type { StageTicket } from '../../../src/host/copy-stager.js';
import { hostKeyOf } from '../../union/attr.js';
import type { Attr, WorldFs } from '../../worldfs.js';
import { DirHandles } from './dirs.js';
import { InodeTable, type Node } from './inodes.js';
import { NodeFiles } from './node-files.js';
import { OpenNodes } from './open-nodes.js';
import { CacheLedger } from './invalidations.js';
import { PassthroughTable } from './passthrough.js';
import { RemovedDirs } from './removed-dirs.js';
import {
  ATTR_OUT_SIZE, ENTRY_OUT_SIZE, EXPIRE_ONLY, OUT_HEADER_SIZE, encodeInvalEntry, encodeInvalInode, replyBuffer, writeAttrOut, writeEntry, type Entry,
  type InHeader, type Reader,
} from './protocol.js';

/** The stand-in name of a file with no name while its node is made: a name with a slash is no name. */
const NAMELESS = '/tmpfile';

export interface Request {
  readonly h: InHeader;
  readonly body: Reader;
}

/** A reply, none (FORGET), or one still being prepared (a copy-up staged in the thread pool). */
export type Reply = Buffer | undefined | Promise<Buffer | undefined>;

/** Cache lifetimes handed to the kernel, in seconds (read at every reply: they may change). */
export interface Timeouts {
  readonly entry: number;
  readonly attr: number;
  readonly negative: number;
  /** Layers from the top whose every change is reported (0: none; Infinity: every layer)... */
  readonly notifiedLayers?: number;
  /** ...and how long an answer drawn from them alone lives (an object whose highest copy is there). */
  readonly notified?: number;
}

/** Who asked: new files and directories belong to the caller (see WorldFs's `Owner`). */
export const owner = (h: InHeader) => ({ uid: h.uid, gid: h.gid });

/** The umask a MKNOD, MKDIR, CREATE or TMPFILE carries, for us to apply: only with DONT_MASK (otherwise the kernel did). */
export const umaskOf = (c: OpContext, umask: number): number | undefined => (c.dontMask ? umask & 0o777 : undefined);

const S_IFMT = 0o170000;
const S_IFDIR = 0o040000;
const { O_RDONLY, O_RDWR } = fsConstants;

export class OpContext {
  readonly dirs = new DirHandles();
  /** Attributes of directories removed while the kernel holds them (fstat of an open one). */
  readonly removedDirs = new RemovedDirs();
  /** What the kernel may cache of this view (negative entries included), for invalidation. */
  readonly ledger: CacheLedger;
  /** Requests served, lookups counted and forgotten, copy-ups staged, READs, WRITEs and READDIRs: for tests and SIGUSR2. */
  readonly counters = { requests: 0, lookups: 0, forgets: 0, staged: 0, reads: 0, writes: 0, readdirs: 0 };
  /** Which open files the kernel serves from their layer file (FUSE passthrough), once INIT enabled it. */
  readonly passthrough = new PassthroughTable();
  /** Writes notifications (from the thread pool: FuseDevice.notify); set at INIT. */
  notify: ((notices: Buffer[]) => void) | undefined;
  /** The kernel can expire a name without d_invalidate()ing it (nothing mounted on it is detached). */
  expireOnly = false;
  /** Which node each open file handle is of, and each node's handles. */
  readonly opened = new OpenNodes();
  /** Requests waiting for a staged copy-up, by unique: INTERRUPT ends the wait. */
  readonly waiting = new Map<bigint, () => void>();
  /**
   * The kernel caches writes (WRITEBACK_CACHE): it may read a page of a file opened write-only
   * (to fill a partial page) and it computes O_APPEND offsets itself.
   */
  writeback = false;
  /** Modes of new objects come unmasked, with the caller's umask (DONT_MASK was negotiated). */
  dontMask = false;
  /** Where READ and READDIR replies are built; the session writes each reply before the next request. */
  readonly scratch: Buffer;

  /** Handles of files the kernel opens itself (open=kernel), by node. */
  readonly files: NodeFiles;

  /**
   * `nodes`: the node table, a journaled one (node-journal.ts) where a new daemon may have to take
   * the connection over.
   */
  constructor(readonly fs: WorldFs, readonly t: Timeouts, maxReply: number, kernelOpensFiles = false, readonly nodes: InodeTable = new InodeTable()) {
    this.ledger = new CacheLedger(nodes);
    this.scratch = Buffer.allocUnsafe(OUT_HEADER_SIZE + maxReply);
    this.files = new NodeFiles({
      open: (node, writable) => {
        const path = this.pathOf(node);
        const fh = this.fs.open(path, writable ? O_RDWR : O_RDONLY); // a write open copies up
        if (writable) this.rekey(node, path);
        this.opened.add(fh, node);
        return fh;
      },
      reopenWritable: (fh, node) => {
        const rw = this.fs.reopenWritable(fh);
        this.opened.add(rw, node);
        return rw;
      },
      release: (fh) => {
        this.opened.remove(fh);
        this.fs.release(fh);
      },
    }, kernelOpensFiles);
  }

  node(id: number | bigint): Node {
    const n = this.nodes.get(Number(id));
    if (!n) throw fsError('ESTALE', `node ${id}`);
    return n;
  }

  pathOf(node: Node): ViewPath {
    const p = this.nodes.pathOf(node);
    if (p === undefined) {
      if (node.detached) return this.formerPath(node);
      throw fsError('ENOENT', `node ${node.id} was unlinked`);
    }
    return p;
  }

  /**
   * A detached node's names belong to new nodes, the same file copied up: a call the kernel makes
   * on an open descriptor of the old node (fchmod, fgetxattr: it does not retry those) goes by a
   * former name while the file there is still that file (same st_ino). Otherwise ESTALE, which
   * makes the kernel look the name up again (LOOKUP_REVAL) and retry a call it made by name there.
   */
  private formerPath(node: Node): ViewPath {
    for (const l of node.former?.links ?? []) {
      const p = this.nodes.childPath(l.parent, l.name);
      if (p === undefined) continue;
      try {
        if (this.fs.getattr(p).ino === node.former!.ino) return p;
      } catch { /* gone */ }
    }
    throw fsError('ESTALE', `node ${node.id}: its names moved to a new node`);
  }

  /**
   * A detached node's file was changed by its former name (fchmod on an old descriptor): the
   * nodes that hold those names now drop the attributes the kernel keeps of them. The key stays
   * with them (the file's copy is theirs).
   */
  private changedByFormerName(node: Node): void {
    const holders = (node.former?.links ?? []).map((l) => l.parent.children.get(l.name)).filter((n): n is Node => n !== undefined && n !== node);
    if (holders.length > 0) this.notify?.(holders.map((n) => encodeInvalInode(n.id, -1, 0)));
  }

  /**
   * Give `node`'s names to new nodes (InodeTable.detach) and tell the kernel to look them up again:
   * what reaches the old node by name from now on gets ESTALE, and the kernel retries it on the new one.
   */
  detach(node: Node, ino: number): void {
    const links = this.nodes.detach(node);
    node.former = { links, ino };
    this.notify?.(links.map((l) => encodeInvalEntry(l.parent.id, l.name, this.expireOnly ? EXPIRE_ONLY : 0)));
  }

  /** The open handles of `node`, one of the top layer's own files first (the object's current copy). */
  handlesOf(node: Node): number[] {
    const hs = [...this.opened.of(node)];
    const own = hs.findIndex((h) => this.fs.ownsHandle(h));
    if (own > 0) hs.unshift(...hs.splice(own, 1));
    return hs;
  }

  /**
   * An open handle of `node` (a file with a name) whose descriptor is the node's object itself, a
   * top-layer file of its own: what is asked of the object can be asked of the descriptor, with no
   * path resolved. tar's fchown, fchmod and futimens come without a handle (the kernel gives one
   * to ftruncate only), and so does the kernel's security.capability check before a write.
   */
  ownOpen(node: Node): number | undefined {
    if (node.key === undefined || node.detached || node.links.length === 0) return undefined;
    for (const fh of this.opened.of(node)) if (this.fs.isObject(fh, node.key)) return fh;
    return undefined;
  }

  childPath(parent: Node, name: string): ViewPath {
    if (name.length > NAME_MAX / 4 && Buffer.byteLength(name) > NAME_MAX) throw fsError('ENAMETOOLONG', name);
    const p = this.nodes.childPath(parent, name);
    if (p === undefined) throw fsError('ENOENT', `node ${parent.id} was unlinked`);
    return p;
  }

  /**
   * Count one lookup of `name` in `parent` and describe it for an entry reply. A non-directory
   * with more links is the node its other names have only when it is in the top layer: a lower
   * hard link breaks at the first copy-up through one name (as in overlayfs without index=on), so
   * its names must stay separate kernel inodes, each copied up and written as itself. `known`:
   * the attributes getattr would give now, when the caller has them (and `path`, the name's view
   * path, when it made it for them). `shared`: the caller knows whether the name is another of an
   * existing node's (LINK of a file with no name yet).
   */
  entry(parent: Node, name: string, known?: Attr, path = this.childPath(parent, name), shared?: boolean): Entry {
    // `known`: the caller has the attributes already (CREATE, from the new file's descriptor).
    const attr = known ?? this.fs.getattr(path);
    const isDir = (attr.mode & S_IFMT) === S_IFDIR;
    shared ??= !isDir && attr.nlink > 1 && this.fs.inTopLayer(path);
    return this.counted(this.nodes.lookup(parent, name, isDir, keyOf(attr), shared), attr);
  }

  /**
   * Count one lookup of a new file with no name (O_TMPFILE, made in directory `parent`) and
   * describe it for an entry reply: a node with no name, as an unlinked file's, found by its host
   * identity when LINK gives it one. The name it has for a moment here can be no real one.
   */
  nameless(parent: Node, attr: Attr): Entry {
    const node = this.nodes.lookup(parent, NAMELESS, false, keyOf(attr));
    this.nodes.unlinkName(parent, NAMELESS);
    return this.counted(node, attr);
  }

  /** An entry reply's content for a lookup of `node`, counted. */
  private counted(node: Node, attr: Attr): Entry {
    this.counters.lookups++;
    return { nodeid: node.id, generation: 0, entryValid: this.lifetime(attr, this.t.entry), attrValid: this.lifetime(attr, this.t.attr), attr };
  }

  entryReply(r: Request, e: Entry): Buffer {
    const b = replyBuffer(r.h.unique, ENTRY_OUT_SIZE);
    writeEntry(b, OUT_HEADER_SIZE, e);
    return b;
  }

  attrReply(r: Request, a: Attr): Buffer {
    const b = replyBuffer(r.h.unique, ATTR_OUT_SIZE);
    writeAttrOut(b, OUT_HEADER_SIZE, this.lifetime(a, this.t.attr), a);
    return b;
  }

  /**
   * How long the kernel may keep an answer about `a`: the notified lifetime when its highest copy
   * is in a layer whose changes are all reported (no lower layer can change which copy that is, or
   * its attributes), else `otherwise`. Negative entries depend on every layer: never here.
   */
  private lifetime(a: Attr, otherwise: number): number {
    const n = this.t.notifiedLayers ?? 0;
    return a.layer !== undefined && a.layer < n ? (this.t.notified ?? otherwise) : otherwise;
  }

  /**
   * Whether the kernel may keep the data pages of an object whose highest copy is in `layer`
   * across opens (FOPEN_KEEP_CACHE): that layer's every change is reported, and so invalidated
   * (pages included). Otherwise each open drops them, as before: a change behind our back would
   * stay unseen for as long as the pages stayed.
   */
  keepsData(layer: number): boolean {
    return layer < (this.t.notifiedLayers ?? 0);
  }

  /** Whether every layer's changes are reported: a directory's listing may then stay in the kernel (FOPEN_CACHE_DIR). */
  get listingsNotified(): boolean {
    return this.t.notifiedLayers === Infinity;
  }

  empty(r: Request): Buffer {
    return replyBuffer(r.h.unique, 0);
  }

  /**
   * After an operation that may have copied a non-directory up: the node follows its new host
   * identity. Returns the attributes it read for that (getattr of `path`), which a reply may reuse.
   */
  rekey(node: Node, path: ViewPath | undefined = this.nodes.pathOf(node)): Attr | undefined {
    if (node.detached) {
      this.changedByFormerName(node);
      return undefined;
    }
    if (node.isDir || path === undefined) return undefined;
    try {
      const a = this.fs.getattr(path);
      this.nodes.setKey(node, keyOf(a));
      return a;
    } catch {
      return undefined; // gone meanwhile: the next lookup decides
    }
  }

  /**
   * Run `then` (an operation that copies `node` up, with copyUp's `dataLimit`/`metaOnly`) once the
   * data it would copy is staged: at once when there is little or none, otherwise after a copy in
   * the thread pool, while other requests are served. The operation re-resolves everything when it
   * runs, so whatever happened meanwhile (an unlink, a rename) is simply earlier than it.
   */
  afterCopyUp(r: Request, node: Node, then: () => Buffer, dataLimit?: number, metaOnly = false): Reply {
    return this.afterCopyUps(r, [node], then, dataLimit, metaOnly);
  }

  /** afterCopyUp of every node in `nodes` (an exchange copies two up): their copies staged together. */
  afterCopyUps(r: Request, nodes: readonly Node[], then: () => Buffer, dataLimit?: number, metaOnly = false): Reply {
    const tickets: StageTicket[] = [];
    for (const node of nodes) {
      const ticket = this.stage(node, dataLimit, metaOnly);
      if (ticket) tickets.push(ticket);
    }
    if (tickets.length === 0) return then();
    this.counters.staged += tickets.length;
    const unique = r.h.unique;
    const release = () => { for (const t of tickets) t.release(); };
    return new Promise<Buffer>((resolve, reject) => {
      this.waiting.set(unique, () => {
        release();
        const paths = nodes.map((n) => this.nodes.pathOf(n) ?? `node ${n.id}`);
        reject(fsError('EINTR', `${paths.join(' and ')}: copy-up interrupted`));
      });
      void Promise.all(tickets.map((t) => t.ready)).then(() => {
        if (!this.waiting.delete(unique)) return; // interrupted
        try {
          resolve(then());
        } catch (e) {
          reject(e);
        } finally {
          release();
        }
      });
    });
  }

  /** A staged copy of `node`'s data, or undefined when there is nothing worth staging. */
  private stage(node: Node, dataLimit: number | undefined, metaOnly: boolean): StageTicket | undefined {
    const path = this.nodes.pathOf(node);
    if (path === undefined) return undefined;
    try {
      return this.fs.stageCopyUp(path, dataLimit, metaOnly);
    } catch (e) {
      if (!isFsError(e)) throw e;
      return undefined; // the operation will meet the same error and report it
    }
  }
}

/** "dev:ino": a non-directory's host identity (not the view's st_ino, which survives copy-up). */
export function keyOf(a: Attr): string {
  return hostKeyOf(a.hostDev, a.hostIno);
}
