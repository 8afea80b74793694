// The worldfs command line, compatible with fuse-overlayfs:
//   worldfs [-f] [-d] -o lowerdir=L1:L2,upperdir=U[,workdir=W][,whiteout=aufs|overlay] MNT
//   worldfs SOURCE MNT -o ...            (the form mount(8) uses for `mount -t fuse.worldfs`)
// Pure: parses strings, checks nothing on disk.
import { NODE_BUDGET_RANGE, nodeBudgetOf } from '../src/core/node-budget.js';

export type Udba = 'reval' | 'none';
/**
 * Who reports lower-layer changes (fs/layer-notify.ts, src/host/layer-watches.ts): nobody (the
 * timeout bounds them); `auto` (`inotify` is its older name): inotify watches where a layer fits,
 * fanotify (root) for a layer too big for them (a host root); `fanotify`: fanotify for every lower layer.
 */
export type Notify = 'none' | 'inotify' | 'fanotify' | 'auto';
/** Cache lifetime (s) when every lower-layer change is reported: a safety net, not a bound. */
export const NOTIFIED_TIMEOUT = 300;
/**
 * How worldfs talks to the kernel: fuse-native (libfuse 2.9), its own /dev/fuse protocol code, or
 * `auto` (the default): kernel when the daemon may mount(2) itself (root, or root of a user and
 * mount namespace), else native (fs/README.md, "Transports", says why).
 */
/** passthrough=: whether open files may be served by the kernel from their layer file. */
export type Passthrough = 'auto' | 'off';
/** open=: who opens files, the daemon (a request per open) or the kernel itself (node-files.ts). */
export type OpenBy = 'daemon' | 'kernel';
/** readdirplus=: whether every directory read carries its entries' attributes, or the kernel picks (fs/README.md). */
export type ReaddirPlus = 'always' | 'auto';

export type TransportName = 'native' | 'kernel' | 'auto';
export const TRANSPORTS: readonly TransportName[] = ['native', 'kernel', 'auto'];

export interface MountOptions {
  readonly mountpoint: string;
  /** Highest priority first, as in overlayfs's lowerdir=. */
  readonly lowerdirs: readonly string[];
  readonly upperdir: string;
  readonly workdir?: string;
  readonly whiteout: string;
  /** How changes made to lower layers behind the mount's back show up (see docs/whiteouts.md). */
  readonly udba: Udba;
  /** Kernel entry/attribute cache lifetime in seconds: the bound on seeing unreported lower-layer changes. */
  readonly cacheTimeout: number;
  /** notify=auto|inotify|fanotify: lower-layer changes are watched and invalidated as they happen. */
  readonly notify: Notify;
  /** notify_timeout=: the caches' lifetime when every lower layer is watched (and the transport invalidates). */
  readonly notifiedTimeout: number;
  /** fence=DIR (with notify=): a file created there is removed once every earlier layer change is applied. */
  readonly fence?: string;
  readonly fsync: boolean;
  /** chmod/chown/utimens/xattr changes copy up metadata only (overlayfs metacopy=on). */
  readonly metacopy: boolean;
  readonly foreground: boolean;
  readonly debug: boolean;
  readonly fsname: string;
  readonly log?: string;
  /** Options handed to the kernel mount as they are (ro, nosuid, nodev, noexec, suid, dev, exec). */
  readonly kernelFlags: readonly string[];
  /** writeback_cache: the kernel caches writes (kernel transport only, and only with udba=none). */
  readonly writebackCache: boolean;
  /**
   * acl: the kernel checks POSIX ACLs (named users' and groups' entries) as well as mode bits
   * (kernel transport only). Off by default: the kernel then fetches an inode's ACL whenever a
   * caller other than its owner needs it after its attributes were refreshed (fs/README.md).
   */
  readonly acl: boolean;
  /**
   * passthrough=auto (default): open files are served by the kernel from their layer file (FUSE
   * passthrough, kernel transport, Linux 6.9+, root) where that is correct (fs/README.md); off: never.
   */
  readonly passthrough: Passthrough;
  /**
   * open=daemon (default): every open(2) is a request (OPEN, RELEASE), which passthrough needs;
   * kernel: where every layer's changes are reported, the kernel opens files itself, no request
   * per open, and file data goes through the daemon (fs/transport/kernel/node-files.ts).
   */
  readonly open: OpenBy;
  /**
   * readdirplus=always (default): every directory read (kernel transport) returns each entry's
   * attributes, which the kernel keeps as a lookup's; auto: the kernel asks for them only at a
   * listing's start and after a lookup in the directory (READDIRPLUS_AUTO).
   */
  readonly readdirplus: ReaddirPlus;
  readonly allowOther: boolean;
  /** View paths whose lower contents are never read (shown as empty directories): proc, sys, dev, the store. */
  readonly prune: readonly string[];
  /** Where to record what the view showed before each path's first change (worldctl merge). */
  readonly seenlog?: string;
  /** A JSON file with a new layer stack, read on SIGUSR1 (see StackFile). */
  readonly stack?: string;
  /**
   * Where to journal the node table (kernel transport), so that a new daemon started by a keeper
   * (worldkeep) can take the connection over should this one die; removed when the mount ends.
   */
  readonly journal?: string;
  /** Report every object as owned by these ids (fuse-overlayfs's squash_to_uid/gid/root). */
  readonly squash: { readonly uid?: number; readonly gid?: number };
  readonly transport: TransportName;
  /**
   * busy_poll=MICROSECONDS: how long at most the daemon keeps reading /dev/fuse once it has served
   * the requests queued (kernel transport; fs/transport/kernel/busy-poll.ts); 0: never.
   */
  readonly busyPollUs: number;
  /**
   * nodes=N: past N nodes the daemon asks the kernel to drop the inodes it looked up longest ago
   * and nothing uses (kernel transport, Linux 6.18+; fs/transport/kernel/node-budget.ts); 0: never.
   */
  readonly maxNodes: number;
}

/** busy_poll='s default, in µs: a request comes within it in 97% of tar -x's dry moments (fs/transport/kernel/busy-poll.ts). */
export const BUSY_POLL_US = 100;

/**
 * nodes='s default: a tree the size of the Linux kernel's sources stays cached whole, and a
 * `find /` in a world over / leaves the daemon at 255 MiB at peak instead of 446 MiB (fs/README.md,
 * "The node budget").
 */
export const MAX_NODES = 131_072;

export type { StackFile } from '../src/host/stack-file.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `usage: worldfs [-f] [-d] -o lowerdir=L1[:L2...],upperdir=U[,workdir=W][,whiteout=aufs|overlay|overlay-user]
                 [,udba=reval|none][,timeout=SECONDS][,notify=none|auto|inotify|fanotify][,notify_timeout=SECONDS][,fence=DIR][,volatile][,metacopy=on|off][,log=FILE][,prune=/P1:/P2][,seenlog=FILE]
                 [,squash_to_uid=UID][,squash_to_gid=GID][,squash_to_root][,writeback_cache][,acl][,passthrough=auto|off][,open=daemon|kernel][,readdirplus=always|auto][,journal=FILE]
                 [,transport=auto|native|kernel][,busy_poll=MICROSECONDS][,nodes=N] MOUNTPOINT
       worldfs SOURCE MOUNTPOINT -o OPTIONS     (as called by mount -t fuse.worldfs)`;

const KERNEL_FLAGS = new Set(['ro', 'nosuid', 'nodev', 'noexec', 'suid', 'dev', 'exec']);
const IGNORED = new Set(['rw', 'defaults', 'auto', 'noauto', 'user', 'nouser', 'users', '_netdev', 'relatime', 'noatime', 'atime', 'strictatime', 'nofail', 'default_permissions', 'allow_other']);

/** Split a lowerdir value on ':' honouring '\:' escapes, as overlayfs does. */
export function splitLowerdirs(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === '\\' && i + 1 < value.length) { cur += value[++i]; continue; }
    if (c === ':') { out.push(cur); cur = ''; continue; }
    cur += c;
  }
  out.push(cur);
  if (out.some((d) => d === '')) throw new UsageError(`lowerdir=${value}: empty layer path`);
  return out;
}

/** Split a -o string on commas. */
function splitOptions(s: string): string[] {
  return s.split(',').map((x) => x.trim()).filter((x) => x !== '');
}

function transportName(v: string, where: string): TransportName {
  if (!(TRANSPORTS as readonly string[]).includes(v)) throw new UsageError(`${where}${v}: expected ${TRANSPORTS.join(' or ')}`);
  return v as TransportName;
}

/**
 * Parse a worldfs command line. `defaults.transport` is the transport when no transport= is given
 * (the command passes $WORLDFS_TRANSPORT, so a whole test run or bench can pick one); else auto.
 */
export function parseArgs(argv: readonly string[], defaults: { transport?: string } = {}): MountOptions {
  const positional: string[] = [];
  const opts: string[] = [];
  let foreground = false;
  let debug = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-o') {
      const v = argv[++i];
      if (v === undefined) throw new UsageError('-o needs a value');
      opts.push(...splitOptions(v));
    } else if (a.startsWith('-o') && a.length > 2) opts.push(...splitOptions(a.slice(2)));
    else if (a === '-f' || a === '--foreground') foreground = true;
    else if (a === '-d' || a === '--debug') { debug = true; foreground = true; }
    else if (a === '-t') i++; // mount(8) may pass the type; we know it
    else if (a === '-n' || a === '-s' || a === '-v') continue;
    else if (a === '-h' || a === '--help') throw new UsageError(USAGE);
    else if (a.startsWith('-')) throw new UsageError(`unknown flag ${a}\n${USAGE}`);
    else positional.push(a);
  }
  if (positional.length === 0) throw new UsageError(`missing MOUNTPOINT\n${USAGE}`);
  if (positional.length > 2) throw new UsageError(`too many arguments: ${positional.join(' ')}\n${USAGE}`);
  const mountpoint = positional[positional.length - 1]!;
  let fsname = positional.length === 2 ? positional[0]! : 'worldfs';

  let lowerdirs: string[] | undefined;
  let upperdir: string | undefined;
  let workdir: string | undefined;
  let whiteout = 'aufs';
  let udba: Udba = 'reval';
  let cacheTimeout: number | undefined;
  let notify: Notify = 'auto';
  let notifiedTimeout = NOTIFIED_TIMEOUT;
  let fence: string | undefined;
  let fsync = true;
  let metacopy = true;
  let log: string | undefined;
  let allowOther = true;
  let writebackCache = false;
  let acl = false;
  let passthrough: Passthrough = 'auto';
  let open: OpenBy = 'daemon';
  let readdirplus: ReaddirPlus = 'always';
  let prune: string[] = [];
  let seenlog: string | undefined;
  let stack: string | undefined;
  let journal: string | undefined;
  let busyPollUs: number | undefined;
  let maxNodes: number | undefined;
  const squash: { uid?: number; gid?: number } = {};
  const id = (v: string, what: string) => {
    if (!/^\d+$/.test(v) || Number(v) > 0xfffffffe) throw new UsageError(`${what}=${v}: expected a numeric id`);
    return Number(v);
  };
  let transport: TransportName = defaults.transport ? transportName(defaults.transport, 'WORLDFS_TRANSPORT=') : 'auto';
  const kernelFlags: string[] = [];
  for (const o of opts) {
    const eq = o.indexOf('=');
    const key = eq < 0 ? o : o.slice(0, eq);
    const value = eq < 0 ? undefined : o.slice(eq + 1);
    const need = () => {
      if (value === undefined || value === '') throw new UsageError(`option ${key} needs a value`);
      return value;
    };
    /** The value, one of `choices`. */
    const oneOf = <T extends string>(...choices: T[]): T => {
      const v = need();
      if (!(choices as string[]).includes(v)) throw new UsageError(`${key}=${v}: expected ${choices.join(' or ')}`);
      return v as T;
    };
    /** The value, a number of seconds >= 0. */
    const seconds = (): number => {
      const n = Number(need());
      if (!Number.isFinite(n) || n < 0) throw new UsageError(`${key}=${value}: expected a number of seconds >= 0`);
      return n;
    };
    switch (key) {
      case 'lowerdir': lowerdirs = splitLowerdirs(need()); break;
      case 'upperdir': upperdir = need(); break;
      case 'workdir': workdir = need(); break;
      case 'whiteout': whiteout = need(); break;
      case 'udba': udba = oneOf('reval', 'none'); break;
      case 'timeout': cacheTimeout = seconds(); break;
      case 'notify': notify = oneOf('none', 'auto', 'inotify', 'fanotify'); break;
      case 'notify_timeout': notifiedTimeout = seconds(); break;
      case 'fence': fence = need(); break;
      case 'volatile': fsync = false; break;
      case 'metacopy': metacopy = oneOf('on', 'off') === 'on'; break;
      case 'log': log = need(); break;
      case 'prune': prune = splitLowerdirs(need()); break;
      case 'seenlog': seenlog = need(); break;
      case 'stack': stack = need(); break;
      case 'journal': journal = need(); break;
      case 'busy_poll': {
        const v = need();
        if (!/^\d+$/.test(v) || Number(v) > 10_000) throw new UsageError(`busy_poll=${v}: expected a whole number of microseconds, 0 to 10000`);
        busyPollUs = Number(v);
        break;
      }
      case 'nodes': {
        const v = need();
        maxNodes = nodeBudgetOf(v);
        if (maxNodes === undefined) throw new UsageError(`nodes=${v}: expected ${NODE_BUDGET_RANGE}`);
        break;
      }
      case 'fsname': fsname = need(); break;
      case 'transport': transport = transportName(need(), 'transport='); break;
      case 'noallow_other': allowOther = false; break;
      case 'writeback_cache': writebackCache = true; break;
      case 'acl': acl = true; break;
      case 'passthrough': passthrough = oneOf('auto', 'off'); break;
      case 'open': open = oneOf('daemon', 'kernel'); break;
      case 'readdirplus': readdirplus = oneOf('always', 'auto'); break;
      case 'squash_to_uid': squash.uid = id(need(), key); break;
      case 'squash_to_gid': squash.gid = id(need(), key); break;
      case 'squash_to_root': squash.uid = 0; squash.gid = 0; break;
      default:
        if (KERNEL_FLAGS.has(key)) kernelFlags.push(key);
        else if (IGNORED.has(key) || key.startsWith('x-')) continue;
        else throw new UsageError(`unknown option ${JSON.stringify(o)}\n${USAGE}`);
    }
  }
  if (!lowerdirs) throw new UsageError(`missing lowerdir=\n${USAGE}`);
  if (!upperdir) throw new UsageError(`missing upperdir= (worldfs views are always writable)\n${USAGE}`);
  if (writebackCache && udba !== 'none') {
    throw new UsageError('writeback_cache needs udba=none: the kernel would keep its own size and mtime of every file it caches, and a change made to a lower layer would never show');
  }
  if (journal !== undefined && transport === 'native') throw new UsageError('journal= needs transport=kernel (or auto): libfuse 2.9 owns its connection, which cannot be taken over');
  if (busyPollUs !== undefined && busyPollUs > 0 && transport === 'native') throw new UsageError('busy_poll= needs transport=kernel (or auto): libfuse 2.9 reads its requests itself');
  if (maxNodes !== undefined && maxNodes > 0 && transport === 'native') throw new UsageError('nodes= needs transport=kernel (or auto): libfuse 2.9 keeps its own node table');
  if (writebackCache && transport === 'native') throw new UsageError('writeback_cache needs transport=kernel (or auto): libfuse 2.9 has no writeback cache');
  if (acl && transport === 'native') throw new UsageError('acl needs transport=kernel (or auto): libfuse 2.9 cannot ask the kernel to check ACLs');
  return {
    mountpoint, lowerdirs, upperdir, workdir, whiteout, udba,
    cacheTimeout: cacheTimeout ?? (udba === 'none' ? 3600 : 1), notify, notifiedTimeout, ...(fence !== undefined ? { fence } : {}),
    fsync, metacopy, foreground, debug, fsname, log, kernelFlags, allowOther, prune, seenlog, stack, squash, transport, writebackCache, acl, passthrough, open, readdirplus,
    ...(journal !== undefined ? { journal } : {}), busyPollUs: busyPollUs ?? BUSY_POLL_US,
    maxNodes: maxNodes ?? (transport === 'native' ? 0 : MAX_NODES),
  };
}
