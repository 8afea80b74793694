// /dev/fuse: open it, mount it with mount(8) (the fd handed over as the child's fd 3), read
// requests, write replies and notifications. Requests are read on the main thread, non-blocking,
// when Node's event loop (epoll) reports the device readable: a request costs the kernel's two
// wake-ups (client -> us -> client), as with libfuse, and no thread-pool hop. Every request already
// queued is served in the same turn, and the device is read a little longer once it is dry
// (busy-poll.ts). Notifications are written from the thread pool (see notify).
import { spawn } from 'node:child_process';
import { closeSync, constants, openSync, write, writeSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { readSome, unwatchNative, watchReadable, type NativeWatch } from '../../../src/host/syscalls.js';
import { BusyPoll } from './busy-poll.js';
import { MIN_READ_BUFFER, Notify, notifyBuffer } from './protocol.js';

const { O_RDWR, O_NONBLOCK } = constants; // libuv opens with O_CLOEXEC itself
const { EAGAIN, EINTR, ENOENT, ENODEV } = osConstants.errno;

export interface MountSpec {
  readonly mountpoint: string;
  readonly fsname: string;
  /** Mount options for the kernel: fuse's own (allow_other, default_permissions, max_read) and flags (ro, nosuid, ...). */
  readonly options: readonly string[];
}

/** Called with one whole request; the buffer is valid only until the handler returns. */
export type RequestHandler = (request: Buffer) => void;

/** Requests served in one turn of the event loop at most. */
const DRAIN_MAX = 64;

const nowNs = () => performance.now() * 1e6;

const errCode = (e: unknown) => (e as NodeJS.ErrnoException | null)?.code;

export class FuseDevice {
  readonly fd: number;
  private readonly buffer: Buffer;
  private watch: NativeWatch | undefined;
  private readonly poll: BusyPoll;
  private closedFlag = false;
  /** Settles when every notification asked for so far is written. */
  private told: Promise<void> = Promise.resolve();
  private resolveClosed!: (reason: string) => void;
  /** Settles when the connection is gone: unmounted (ENODEV), or closed by us. */
  readonly closed: Promise<string>;

  /**
   * Open /dev/fuse with buffers for requests of up to `maxWrite` bytes of data; or use `inherited`,
   * a descriptor of it opened non-blocking by a keeper (worldkeep.c), mounted by us or, when a
   * daemon takes its connection over, by the daemon that died.
   */
  constructor(maxWrite: number, inherited?: number, busyPollNs = 0) {
    this.fd = inherited ?? openSync('/dev/fuse', O_RDWR | O_NONBLOCK);
    this.poll = new BusyPoll(busyPollNs);
    this.buffer = Buffer.allocUnsafe(Math.max(MIN_READ_BUFFER, maxWrite + 4096));
    this.closed = new Promise((resolve) => { this.resolveClosed = resolve; });
  }

  /** Busy polling's counters and its window now, in µs. */
  get busyPollStats(): Record<string, number> {
    return { ...this.poll.counters, busyPollWindowUs: this.poll.spinNs / 1000 };
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  /** Whether mount() succeeded (the connection has a mount, even if it is closed now). */
  wasMounted = false;

  /** Mount the connection on `spec.mountpoint` with mount(8) -i (no helper): resolves once mounted. */
  mount(spec: MountSpec): Promise<void> {
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    const opts = [`fd=3`, 'rootmode=40000', `user_id=${uid}`, `group_id=${gid}`, ...spec.options].join(',');
    const child = spawn('mount', ['-i', '-t', 'fuse.worldfs', '-o', opts, spec.fsname, spec.mountpoint], {
      stdio: ['ignore', 'ignore', 'pipe', this.fd],
    });
    let err = '';
    child.stderr!.setEncoding('utf8');
    child.stderr!.on('data', (d: string) => { err += d; });
    return new Promise((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code, signal) => {
        if (code === 0) {
          this.wasMounted = true;
          resolve();
        }
        else reject(new Error(`mount ${spec.mountpoint} failed (${signal ?? `exit ${code}`}): ${err.trim()}`));
      });
    });
  }

  /**
   * Start serving: `handle` runs for each request, one at a time, on the main thread. The buffer
   * it gets is reused for the next request once it returns.
   */
  serve(handle: RequestHandler): void {
    if (this.closedFlag || this.watch) return;
    this.watch = watchReadable(this.fd, (events) => {
      if (events < 0) return this.close(`polling /dev/fuse failed (libuv error ${events})`);
      this.drain(handle);
    });
  }

  /**
   * Serve the requests queued now, up to DRAIN_MAX: then the event loop gets its turn (timers,
   * inotify, staged copy-ups) and the level-triggered poll calls again. Stops at EAGAIN: once a
   * request was served, only after the busy-poll window (busy-poll.ts).
   */
  private drain(handle: RequestHandler): void {
    const buf = this.buffer;
    const poll = this.poll;
    poll.woke(nowNs());
    for (let served = 0; served < DRAIN_MAX && !this.closedFlag; served++) {
      const spin = served > 0 ? poll.spinNs : 0;
      const n = readSome(this.fd, buf, spin);
      if (spin > 0) poll.spun(n !== -EAGAIN);
      if (n >= 0) {
        handle(buf.subarray(0, n));
        continue;
      }
      if (n === -EAGAIN) {
        if (served > 0) poll.idle(nowNs());
        return;
      }
      if (n === -EINTR || n === -ENOENT) continue; // ENOENT: a request interrupted before we read it
      return this.close(n === -ENODEV ? 'unmounted' : `read failed: ${getSystemErrorName(n)}`);
    }
  }

  /**
   * Write a reply. A reply to a request the kernel gave up on (interrupted, aborted) is dropped:
   * false then (what it granted, an open file, is the caller's to take back).
   */
  reply(b: Buffer): boolean {
    if (this.closedFlag) return true;
    try {
      writeSync(this.fd, b);
      return true;
    } catch (e) {
      const code = errCode(e);
      if (code === 'ENOENT') return false;
      if (code === 'ENODEV') {
        this.close('unmounted');
        return true;
      }
      throw e;
    }
  }

  /**
   * Write notifications, in order after every earlier one, from the thread pool one at a time:
   * never from the thread that answers requests, since the kernel may need one of our replies
   * before it can finish an invalidation (a page locked by a read we have not answered yet),
   * which would deadlock. Resolves once these and all earlier ones are written (or the device closed).
   * A write failing otherwise than ENOENT/ENODEV goes to `onError`, or is logged.
   */
  notify(notices: Iterable<Buffer>, onError?: (e: NodeJS.ErrnoException) => void): Promise<void> {
    if (this.closedFlag || (Array.isArray(notices) && notices.length === 0)) return this.told;
    const one = (b: Buffer) => new Promise<void>((resolve) => {
      if (this.closedFlag) return resolve();
      write(this.fd, b, 0, b.length, null, (e) => {
        // ENOENT: the kernel no longer knows that inode or name, nothing to invalidate; ENODEV: unmounted.
        if (e && errCode(e) !== 'ENOENT' && errCode(e) !== 'ENODEV') {
          if (onError) onError(e);
          else process.stderr.write(`worldfs: notification failed: ${e.message}\n`);
        }
        resolve();
      });
    });
    // Taken one at a time (`notices` may be made as it is read: a reload's, a takeover's).
    this.told = this.told.then(async () => {
      for (const b of notices) {
        if (this.closedFlag) break;
        await one(b);
      }
    });
    return this.told;
  }

  /**
   * A daemon taking the connection over: have the kernel queue again every request the dead one
   * read and did not answer (FUSE_NOTIFY_RESEND, 6.9+; their unique then has bit 63 set, and the
   * reply carries it). Resolves once written; rejects where the kernel lacks it.
   */
  resend(): Promise<void> {
    return new Promise((resolve, reject) => {
      const b = notifyBuffer(Notify.RESEND, 0);
      write(this.fd, b, 0, b.length, null, (e) => (e ? reject(e) : resolve()));
    });
  }

  /** Stop serving and close the device. */
  close(reason = 'closed'): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    if (this.watch) unwatchNative(this.watch); // before the fd is closed: epoll must not outlive it
    this.watch = undefined;
    try { closeSync(this.fd); } catch { /* already gone */ }
    this.resolveClosed(reason);
  }
}
