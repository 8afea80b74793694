// /dev/fuse: open it, mount it with mount(8) (the fd handed over as the child's fd 3), read
// requests, write replies and notifications. Exactly one read is outstanding at any time, so the
// device never holds more than one of Node's thread-pool threads (plus one for a notification).
import { spawn } from 'node:child_process';
import { closeSync, openSync, read, write, writeSync } from 'node:fs';
import { MIN_READ_BUFFER } from './protocol.js';

export interface MountSpec {
  readonly mountpoint: string;
  readonly fsname: string;
  /** Mount options for the kernel: fuse's own (allow_other, default_permissions, max_read) and flags (ro, nosuid, ...). */
  readonly options: readonly string[];
}

/** Called with one whole request; the buffer is valid only until the handler returns. */
export type RequestHandler = (request: Buffer) => void;

const errCode = (e: unknown) => (e as NodeJS.ErrnoException | null)?.code;

export class FuseDevice {
  readonly fd: number;
  private buffers: [Buffer, Buffer];
  private closedFlag = false;
  /** Settles when every notification asked for so far is written. */
  private told: Promise<void> = Promise.resolve();
  private resolveClosed!: (reason: string) => void;
  /** Settles when the connection is gone: unmounted (ENODEV), or closed by us. */
  readonly closed: Promise<string>;

  /** Open /dev/fuse with buffers for requests of up to `maxWrite` bytes of data. */
  constructor(maxWrite: number, device = '/dev/fuse') {
    this.fd = openSync(device, 'r+');
    const size = Math.max(MIN_READ_BUFFER, maxWrite + 4096);
    this.buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
    this.closed = new Promise((resolve) => { this.resolveClosed = resolve; });
  }

  get isClosed(): boolean {
    return this.closedFlag;
  }

  /** Whether mount() succeeded (the connection has a mount, even if it is closed now). */
  wasMounted = false;
  /** A read is waiting in the thread pool (it ends only with a request or with the connection). */
  reading = false;

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

  /** Start reading requests; `handle` runs for each, one at a time. */
  serve(handle: RequestHandler): void {
    const next = () => {
      if (this.closedFlag) return;
      const buf = this.buffers[0];
      this.reading = true;
      read(this.fd, buf, 0, buf.length, null, (e, n) => {
        this.reading = false;
        if (this.closedFlag) return;
        if (e) {
          const code = errCode(e);
          if (code === 'EINTR' || code === 'EAGAIN' || code === 'ENOENT') return next();
          return this.close(code === 'ENODEV' ? 'unmounted' : `read failed: ${e.message}`);
        }
        // Read the next request into the other buffer while this one is served.
        this.buffers = [this.buffers[1], buf];
        next();
        handle(buf.subarray(0, n));
      });
    };
    next();
  }

  /** Write a reply. A reply to a request the kernel gave up on (interrupted, aborted) is dropped. */
  reply(b: Buffer): void {
    if (this.closedFlag) return;
    try {
      writeSync(this.fd, b);
    } catch (e) {
      const code = errCode(e);
      if (code === 'ENOENT') return;
      if (code === 'ENODEV') return this.close('unmounted');
      throw e;
    }
  }

  /**
   * Write notifications, in order after every earlier one, from the thread pool one at a time:
   * never from the thread that answers requests, since the kernel may need one of our replies
   * before it can finish an invalidation (a page locked by a read we have not answered yet),
   * which would deadlock. Resolves once these and all earlier ones are written (or the device closed).
   */
  notify(notices: readonly Buffer[]): Promise<void> {
    if (this.closedFlag || notices.length === 0) return this.told;
    const one = (b: Buffer) => new Promise<void>((resolve) => {
      if (this.closedFlag) return resolve();
      write(this.fd, b, 0, b.length, null, (e) => {
        // ENOENT: the kernel no longer knows that inode or name, nothing to invalidate; ENODEV: unmounted.
        if (e && errCode(e) !== 'ENOENT' && errCode(e) !== 'ENODEV') {
          process.stderr.write(`worldfs: notification failed: ${e.message}\n`);
        }
        resolve();
      });
    });
    this.told = this.told.then(async () => {
      for (const b of notices) await one(b);
    });
    return this.told;
  }

  /** Stop serving and close the device (a pending read ends when the connection does). */
  close(reason = 'closed'): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    try { closeSync(this.fd); } catch { /* already gone */ }
    this.resolveClosed(reason);
  }
}
