// One FUSE connection: INIT negotiation, then every request decoded, dispatched to KernelOps and
// answered (later, for one waiting on a staged copy-up). FsError becomes -errno here (fs/errno.ts);
// anything else is logged and answered EIO.
import { debuglog } from 'node:util';
import { constants } from 'node:os';
import { newTurn } from '../../../src/host/loop-turn.js';
import { toErrno } from '../../errno.js';
import type { ReaddirPlus } from '../../options.js';
import type { FuseDevice } from './device.js';
import { backingFilesOf } from './passthrough.js';
import type { KernelOps, Reply } from './ops.js';
import {
  IN_HEADER_SIZE, INIT_OUT_SIZE, Init, Init2, KERNEL_MINOR_VERSION, KERNEL_VERSION, MIN_MINOR_VERSION, OP_NAMES,
  OUT_HEADER_SIZE, Op, Reader, decodeInHeader, decodeInitIn, encodeError, replyBuffer, writeInitOut, type InHeader, type InitIn,
} from './protocol.js';

const trace = debuglog('worldos:fs');
const EPROTO = -constants.errno.EPROTO;
const EIO = -constants.errno.EIO;

/**
 * The INIT flags we ask for. WRITEBACK_CACHE only when the mount asks (writeback_cache, which
 * needs udba=none: the kernel then keeps its own size and mtime of a cached file for good, so a
 * lower layer's change to it would never show). HANDLE_KILLPRIV_V2: we drop setuid/setgid on an
 * unprivileged write or truncate (fs/union/killpriv.ts), and in exchange the kernel stops asking for
 * security.capability before every write (it marks the superblock SB_NOSEC). READDIRPLUS_AUTO
 * only with readdirplus=auto (Wants). DONT_MASK: the kernel sends a new object's mode with the
 * caller's umask beside it, and we apply the umask unless the parent directory has a default ACL,
 * which then decides the mode instead, as on a local filesystem (Union.newMode). POSIX_ACL only
 * with the acl option (Wants): the kernel then checks permissions by the ACL too (default_permissions
 * alone reads only the mode bits, so a named user's entry neither grants nor denies), fetching an
 * inode's ACL with a GETXATTR whenever a caller other than its owner needs it after its attributes
 * were refreshed: apt-get install in a world took 14 s with it against 8-9 s without (man-db reads
 * every page as user man). Not asked: locks (kept local by the kernel), SETXATTR_EXT, SECURITY_CTX.
 */
export const WANTED_FLAGS =
  Init.ASYNC_READ | Init.ATOMIC_O_TRUNC | Init.BIG_WRITES | Init.DO_READDIRPLUS |
  Init.PARALLEL_DIROPS | Init.MAX_PAGES | Init.CACHE_SYMLINKS | Init.ABORT_ERROR | Init.ASYNC_DIO | Init.HANDLE_KILLPRIV_V2 |
  Init.DONT_MASK;
/**
 * Second-word flags we ask for (only through INIT_EXT). PASSTHROUGH only when the mount allows it
 * and does not cache writes: the kernel refuses the two together (process_init_reply).
 */
export const WANTED_FLAGS2 = Init2.HAS_EXPIRE_ONLY;
/**
 * max_stack_depth with PASSTHROUGH: 1, so a backing file must be on an unstacked filesystem (a layer
 * on another passthrough FUSE mount, or on overlayfs, is refused with ELOOP and served by us), and
 * overlayfs may still be stacked on this mount. The kernel reads it whatever minor we answer.
 */
export const MAX_STACK_DEPTH = 1;

export interface Negotiated {
  readonly minor: number;
  readonly flags: number;
  readonly maxWrite: number;
  readonly maxReadahead: number;
  /** The second flags word (0 unless the kernel offered INIT_EXT and something we want in it). */
  readonly flags2: number;
}

/** What a mount asks of the kernel beyond WANTED_FLAGS (fs/options.ts has the options). */
export interface Wants {
  /** WRITEBACK_CACHE: the kernel caches writes. */
  readonly writeback?: boolean;
  /** POSIX_ACL: the kernel checks ACLs (the acl option). */
  readonly acl?: boolean;
  /** PASSTHROUGH, unless writes are cached. */
  readonly passthrough?: boolean;
  /** The kernel may open files itself: O_TRUNC then comes as SETATTR, not ATOMIC_O_TRUNC. */
  readonly kernelOpens?: boolean;
  /**
   * `always` (the default): every READDIR is a READDIRPLUS, whose entries the kernel keeps as it
   * keeps a LOOKUP's. `auto` (READDIRPLUS_AUTO): only a listing's first request, and one after a
   * lookup in the directory, are (fuse_use_readdirplus); a program listing a directory whole and
   * then stat'ing each name pays a LOOKUP per name.
   */
  readonly readdirplus?: ReaddirPlus;
}

/** Our answer to the kernel's INIT: the flags both sides know, large writes, our minor version. */
export function negotiate(init: InitIn, maxWrite: number, wants: Wants = {}): Negotiated | string {
  const { writeback = false, acl = false, passthrough = false, kernelOpens = false } = wants;
  if (init.major !== KERNEL_VERSION) return `kernel speaks FUSE ${init.major}.${init.minor}; worldfs speaks ${KERNEL_VERSION}.x`;
  if (init.minor < MIN_MINOR_VERSION) return `kernel speaks FUSE 7.${init.minor}; worldfs needs 7.${MIN_MINOR_VERSION} or later`;
  const wanted2 = WANTED_FLAGS2 | (passthrough && !writeback ? Init2.PASSTHROUGH : 0);
  const flags2 = init.flags & BigInt(Init.INIT_EXT) ? Number((init.flags >> 32n) & BigInt(wanted2)) : 0;
  // A kernel that opens files itself (node-files.ts) sends no OPEN to truncate: O_TRUNC must come as SETATTR.
  const wanted = (WANTED_FLAGS & ~(kernelOpens ? Init.ATOMIC_O_TRUNC : 0)) | (writeback ? Init.WRITEBACK_CACHE : 0) | (acl ? Init.POSIX_ACL : 0) |
    (wants.readdirplus === 'auto' ? Init.READDIRPLUS_AUTO : 0);
  const flags = Number(init.flags & BigInt(wanted)) | (flags2 ? Init.INIT_EXT : 0);
  return {
    minor: Math.min(init.minor, KERNEL_MINOR_VERSION), flags, flags2,
    maxWrite: flags & Init.MAX_PAGES ? maxWrite : 4096 * 32, maxReadahead: init.maxReadahead,
  };
}

/** Where a session keeps what a daemon taking the connection over needs (takeover-journal.ts). */
export interface SessionJournal {
  /** The kernel's INIT (its body) was answered. */
  recordInit(body: Buffer): void;
  /** Called before each reply: what the reply depends on must be written first. */
  flush(): void;
}

export class Session {
  private initialized = false;
  private resolveReady!: (n: Negotiated) => void;
  private rejectReady!: (e: Error) => void;
  /** Settles when INIT has been answered (or refused). */
  readonly ready: Promise<Negotiated>;

  constructor(
    private readonly device: FuseDevice, private readonly ops: KernelOps, private readonly maxWrite: number,
    private readonly wants: Wants = {}, private readonly journal?: SessionJournal,
  ) {
    this.ready = new Promise((res, rej) => { this.resolveReady = res; this.rejectReady = rej; });
    this.ready.catch(() => { /* reported by whoever awaits it */ });
  }

  /**
   * Serve one request (a whole read from the device; the buffer is reused once this returns).
   * Most are answered before it returns; one waiting for a staged copy-up is answered when it is
   * done, while later requests are served meanwhile.
   */
  handle(buf: Buffer): void {
    if (buf.length < IN_HEADER_SIZE) return;
    newTurn(); // the device is drained in one stretch: each request is a turn of its own (loop-turn.ts)
    const h = decodeInHeader(buf);
    const body = new Reader(buf, IN_HEADER_SIZE, Math.min(h.len, buf.length));
    const t0 = trace.enabled ? performance.now() : 0;
    let reply: Reply;
    if (h.opcode === Op.INIT) {
      reply = this.init(h.unique, body, buf.subarray(IN_HEADER_SIZE, Math.min(h.len, buf.length)));
    } else if (!this.initialized) {
      reply = encodeError(h.unique, EIO);
    } else if (h.opcode === Op.DESTROY) {
      this.device.reply(replyBuffer(h.unique, 0));
      this.device.close('destroyed');
      return;
    } else {
      try {
        reply = this.ops.dispatch({ h, body });
      } catch (e) {
        reply = this.errorReply(h, e);
      }
    }
    if (reply instanceof Promise) {
      reply.then((b) => this.send(h, b, t0), (e) => this.send(h, this.errorReply(h, e), t0));
      return;
    }
    this.send(h, reply, t0);
  }

  private errorReply(h: InHeader, e: unknown): Buffer {
    return encodeError(h.unique, toErrno(e, OP_NAMES.get(h.opcode) ?? `opcode ${h.opcode}`, this.ops.describe(h)));
  }

  private send(h: InHeader, reply: Buffer | undefined, t0: number): void {
    if (trace.enabled) {
      const err = reply ? reply.readInt32LE(4) : 'no reply';
      trace('%s %s -> %s (%sms)', OP_NAMES.get(h.opcode) ?? h.opcode, this.ops.describe(h), err, (performance.now() - t0).toFixed(3));
    }
    if (!reply) return;
    this.journal?.flush();
    if (!this.device.reply(reply)) this.ops.abandoned(h, reply);
  }

  private init(unique: bigint, body: Reader, raw: Buffer): Buffer {
    const init = decodeInitIn(body);
    const n = negotiate(init, this.maxWrite, this.wants);
    if (typeof n === 'string') {
      this.rejectReady(new Error(n));
      return encodeError(unique, EPROTO);
    }
    this.journal?.recordInit(Buffer.from(raw));
    const b = replyBuffer(unique, INIT_OUT_SIZE);
    writeInitOut(b, OUT_HEADER_SIZE, {
      minor: n.minor, maxReadahead: n.maxReadahead, flags: n.flags, flags2: n.flags2, maxBackground: 64, congestionThreshold: 48,
      maxWrite: n.maxWrite, timeGran: 1, maxPages: Math.ceil(n.maxWrite / 4096),
      ...(n.flags2 & Init2.PASSTHROUGH ? { maxStackDepth: MAX_STACK_DEPTH } : {}),
    });
    this.apply(init, n);
    return b;
  }

  /**
   * A daemon taking the connection over: the kernel's INIT (`body`, from the dead daemon's journal)
   * was answered already. The same negotiation, made again, sets this session up as it was.
   */
  restore(body: Buffer): Negotiated {
    const init = decodeInitIn(new Reader(body, 0, body.length));
    const n = negotiate(init, this.maxWrite, this.wants);
    if (typeof n === 'string') throw new Error(`the journaled INIT cannot be served: ${n}`);
    this.apply(init, n);
    return n;
  }

  private apply(init: InitIn, n: Negotiated): void {
    this.initialized = true;
    this.ops.writeback = (n.flags & Init.WRITEBACK_CACHE) !== 0;
    this.ops.dontMask = (n.flags & Init.DONT_MASK) !== 0;
    const device = this.device;
    this.ops.initialized((notices) => void device.notify(notices), (n.flags2 & Init2.HAS_EXPIRE_ONLY) !== 0,
      (init.flags & BigInt(Init.NO_OPENDIR_SUPPORT)) !== 0n, (init.flags & BigInt(Init.NO_OPEN_SUPPORT)) !== 0n);
    if (n.flags2 & Init2.PASSTHROUGH) this.ops.enablePassthrough(backingFilesOf(device));
    this.resolveReady(n);
  }
}
