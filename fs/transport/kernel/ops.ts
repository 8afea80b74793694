// Kernel requests -> WorldFs calls: the table of FUSE opcodes and their handlers (ops-names,
// ops-attrs, ops-files; each named after its opcode), plus INTERRUPT. Handlers return the reply,
// none, or a promise of it while a big copy-up is staged; they throw FsError for errors.
import { constants } from 'node:os';
import { fsError } from '../../../src/core/errors.js';
import type { WorldFs } from '../../worldfs.js';
import { OpContext, type Reply, type Request, type Timeouts } from './op-context.js';
import * as attrs from './ops-attrs.js';
import * as files from './ops-files.js';
import * as names from './ops-names.js';
import type { InodeTable } from './inodes.js';
import type { OpenDecisions } from './kernel-opens.js';
import { NodeBudget, type Tell } from './node-budget.js';
import type { BackingFiles } from './passthrough.js';
import { ENTRY_OUT_SIZE, OUT_HEADER_SIZE, OP_NAMES, Op, encodeError, type InHeader } from './protocol.js';

export type { Reply, Request, Timeouts } from './op-context.js';

const ENOSYS = constants.errno.ENOSYS;
type Handler = (c: OpContext, r: Request) => Reply;

const TABLE: ReadonlyMap<number, Handler> = new Map<number, Handler>([
  [Op.LOOKUP, names.lookup], [Op.FORGET, names.forget], [Op.BATCH_FORGET, names.batchForget],
  [Op.MKNOD, names.mknod], [Op.MKDIR, names.mkdir], [Op.SYMLINK, names.symlink], [Op.LINK, names.link],
  [Op.UNLINK, names.unlink], [Op.RMDIR, names.rmdir],
  [Op.RENAME, (c, r) => names.rename(c, r, false)], [Op.RENAME2, (c, r) => names.rename(c, r, true)],
  [Op.GETATTR, attrs.getattr], [Op.SETATTR, attrs.setattr], [Op.READLINK, attrs.readlink], [Op.ACCESS, attrs.access],
  [Op.STATFS, attrs.statfs], [Op.SETXATTR, attrs.setxattr], [Op.GETXATTR, attrs.getxattr],
  [Op.LISTXATTR, attrs.listxattr], [Op.REMOVEXATTR, attrs.removexattr],
  [Op.OPEN, files.open], [Op.CREATE, files.create], [Op.TMPFILE, files.tmpfile], [Op.READ, files.read], [Op.WRITE, files.write],
  [Op.RELEASE, files.release], [Op.FSYNC, files.fsync], [Op.FLUSH, flush], [Op.FALLOCATE, files.fallocate], [Op.LSEEK, files.lseek],
  [Op.OPENDIR, files.opendir], [Op.READDIR, (c, r) => files.readdir(c, r, false)],
  [Op.READDIRPLUS, (c, r) => files.readdir(c, r, true)], [Op.RELEASEDIR, files.releasedir],
  [Op.FSYNCDIR, (c, r) => c.empty(r)],
  [Op.INTERRUPT, interrupt],
]);

/**
 * FLUSH (every close(2) of a FUSE file) has nothing to do here: data is written through at WRITE,
 * and locks stay in the kernel. ENOSYS makes the kernel stop sending it for good (fc->no_flush),
 * one request less per open file, as fuse-overlayfs does; close() still succeeds.
 */
function flush(): never {
  throw fsError('ENOSYS', 'FLUSH is not needed');
}

/**
 * INTERRUPT: a request still waiting for a staged copy-up is answered EINTR (the staged copy is
 * given up if nobody else waits for it). Every other request is answered before the next one is
 * read, so there is nothing else to cut short; the kernel gets no reply to INTERRUPT itself.
 */
function interrupt(c: OpContext, r: Request): undefined {
  const unique = BigInt(r.body.u64());
  const stop = c.waiting.get(unique);
  if (stop) {
    c.waiting.delete(unique);
    stop();
  }
  return undefined;
}

export class KernelOps {
  private readonly c: OpContext;
  /** Requests served, by opcode: SIGUSR2 prints them as `op.NAME` (where a workload's requests go). */
  private readonly byOpcode: number[] = [];
  /** Past its budget, the node table offers its coldest nodes back to the kernel (node-budget.ts). */
  private budget: NodeBudget | undefined;

  constructor(fs: WorldFs, t: Timeouts, maxReply = 1 << 20, kernelOpensFiles = false, nodes?: InodeTable) {
    this.c = new OpContext(fs, t, maxReply, kernelOpensFiles, nodes);
  }

  get nodes() { return this.c.nodes; }
  get dirs() { return this.c.dirs; }
  get ledger() { return this.c.ledger; }
  /** Requests served, lookups counted and forgotten, copy-ups staged. */
  get counters() { return this.c.counters; }
  /** Requests served so far, by operation name. */
  get requestsByOp(): Record<string, number> {
    const out: Record<string, number> = {};
    this.byOpcode.forEach((n, op) => { if (n) out[`op.${OP_NAMES.get(op) ?? op}`] = n; });
    return out;
  }
  /** Whether the kernel caches writes (WRITEBACK_CACHE was negotiated): set once, at INIT. */
  set writeback(on: boolean) { this.c.writeback = on; }
  /** Whether modes of new objects come unmasked, their umask beside them (DONT_MASK): set once, at INIT. */
  set dontMask(on: boolean) { this.c.dontMask = on; }
  /** Passthrough opens and fallbacks, and backing ids open now. */
  get passthroughCounters() { return { ...this.c.passthrough.counters, backingIds: this.c.passthrough.backingIds }; }
  /** Handles of files the kernel opened itself (node-files.ts): kept now, opened and evicted so far. */
  get nodeFileCounters() { return { ...this.c.files.counters, kept: this.c.files.size }; }

  /**
   * At INIT: notifications go through `notify`, names are expired only when `expireOnly`, and
   * `kernelOpensDirs`, `kernelOpensFiles`: the kernel can open directories (FUSE_NO_OPENDIR_SUPPORT;
   * dirs.ts) and files (FUSE_NO_OPEN_SUPPORT; node-files.ts) itself.
   */
  initialized(notify: (notices: Buffer[]) => void, expireOnly: boolean, kernelOpensDirs: boolean, kernelOpensFiles = false): void {
    this.c.notify = notify;
    this.c.expireOnly = expireOnly;
    this.c.dirs.opens.offered = kernelOpensDirs;
    this.c.files.opens.offered = kernelOpensFiles;
  }

  /** Whether the kernel opens files and directories itself, as decided at the first OPEN and OPENDIR (undefined: not yet). */
  get openDecisions(): OpenDecisions {
    return { files: this.c.files.opens.decision, dirs: this.c.dirs.opens.decision };
  }

  /** A daemon taking the connection over: the decisions the dead one made. */
  restoreOpenDecisions(d: OpenDecisions): void {
    if (d.files !== undefined) this.c.files.opens.restore(d.files);
    if (d.dirs !== undefined) this.c.dirs.opens.restore(d.dirs);
  }

  /** Keep the node table near `max` nodes (0: unbounded), pruning through `tell` (node-budget.ts). */
  limitNodes(max: number, tell: Tell): void {
    this.budget = max > 0 ? new NodeBudget(max, this.c.nodes, (n) => this.c.opened.of(n).length > 0, tell) : undefined;
  }

  /** The node budget's rounds and the nodes offered in them. */
  get budgetCounters() {
    return this.budget?.counters;
  }

  /** At INIT: FUSE_PASSTHROUGH was negotiated (opens may get it through `backing`). */
  enablePassthrough(backing: BackingFiles): void {
    this.c.passthrough.enable(backing);
  }

  /**
   * Serve one request; unknown opcodes are answered ENOSYS (the kernel then stops sending most of
   * them). What the top layer held is remembered between requests, each write forgetting what it
   * changed (src/core/top-memo.ts): nothing to do here for it.
   */
  dispatch(r: Request): Reply {
    this.c.counters.requests++;
    this.byOpcode[r.h.opcode] = (this.byOpcode[r.h.opcode] ?? 0) + 1;
    const fn = TABLE.get(r.h.opcode);
    if (!fn) return encodeError(r.h.unique, -ENOSYS);
    const reply = fn(this.c, r);
    this.budget?.check();
    return reply;
  }

  /**
   * The kernel did not take `reply` (the request was interrupted: the opener was killed). An OPEN
   * or CREATE (TMPFILE) reply granted a file handle the kernel will never RELEASE (OPENDIR:
   * RELEASEDIR), and CREATE a lookup it will never FORGET: all are taken back here, as libfuse does.
   */
  abandoned(h: InHeader, reply: Buffer): void {
    if (reply.readInt32LE(4) !== 0) return;
    if (h.opcode === Op.OPENDIR) {
      this.c.dirs.release(Number(reply.readBigUInt64LE(OUT_HEADER_SIZE)));
    } else if (h.opcode === Op.OPEN) {
      files.releaseHandle(this.c, Number(reply.readBigUInt64LE(OUT_HEADER_SIZE)));
    } else if (h.opcode === Op.CREATE || h.opcode === Op.TMPFILE) {
      files.releaseHandle(this.c, Number(reply.readBigUInt64LE(OUT_HEADER_SIZE + ENTRY_OUT_SIZE)));
      const id = Number(reply.readBigUInt64LE(OUT_HEADER_SIZE));
      this.c.nodes.forget(id, 1);
      if (this.c.nodes.get(id) === undefined) this.c.files.drop(id); // its handle, where the kernel opens files itself
    }
  }

  /** The view path of a request's node, for logs. */
  describe(h: InHeader): string {
    const n = this.c.nodes.get(h.nodeid);
    return (n && this.c.nodes.pathOf(n)) ?? `node ${h.nodeid}`;
  }

  /** The notifications that make the kernel forget what it caches of this view (a reload). */
  invalidations(expireOnly: boolean): Iterable<Buffer> {
    return this.c.ledger.each(expireOnly);
  }
}
