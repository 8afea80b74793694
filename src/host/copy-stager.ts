// Copy-up staged ahead of time: the data of a big lower file is copied into the work directory in
// the thread pool while the daemon goes on serving other requests; the copy-up proper (union.ts,
// synchronous) then only adds metadata and renames the staged copy into the top layer. overlayfs
// copies in line under the inode lock; a daemon answering every request from one thread cannot.
import { close, constants, fdatasync, fstat, open, rm, type BigIntStats } from 'node:fs';
import { lstatSync } from './host-fs.js';
import { holdPath } from './long-path.js';
import { CopyAborted, copySparseAsync } from './copy-data.js';
import { host } from './errors.js';
import { holdAt } from './failpoints.js';

const { O_RDONLY, O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;

/** Files with less data than this are copied in line: staging would cost more than it saves. */
export const STAGE_THRESHOLD = 1 << 20;

/**
 * Copies in flight at once. Each holds at most one thread-pool thread at a time (copy-data.ts);
 * with the device's one pending read and one notification write, 2 leaves the default pool of 4
 * a free thread, so a stalled lower filesystem can never starve the transport of threads.
 */
const MAX_PARALLEL = 2;

/** What a staged copy was made from: a change to the source makes the copy useless. */
function identity(st: BigIntStats): string {
  return `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`;
}

type State = 'queued' | 'copying' | 'ready' | 'failed' | 'taken' | 'dropped';

class Job {
  state: State = 'queued';
  waiters = 0;
  readonly abort = new AbortController();
  readonly ready: Promise<void>;
  private settle!: () => void;
  constructor(readonly src: string, readonly id: string, readonly bytes: number, readonly tmp: string) {
    this.ready = new Promise((res) => { this.settle = res; });
  }
  finish(state: 'ready' | 'failed'): void {
    if (this.state === 'copying' || this.state === 'queued') this.state = state;
    this.settle();
  }
}

/** A request's claim on a staged copy: wait for `ready`, then `release()` whether or not it was used. */
export interface StageTicket {
  /** Settles (never rejects) when the copy is ready, failed or was given up: copy-up then decides. */
  readonly ready: Promise<void>;
  release(): void;
}

export class CopyStager {
  /** The newest job for each source host path. */
  private readonly jobs = new Map<string, Job>();
  private running = 0;
  private readonly queue: Job[] = [];

  constructor(private readonly tempPath: () => string, private readonly fsync: boolean) {}

  /** Start copying the first `bytes` bytes of `src` (or join a copy already under way). FsError if `src` is gone. */
  stage(src: string, bytes: number): StageTicket {
    const id = identity(host(() => lstatSync(src, { bigint: true })));
    let job = this.jobs.get(src);
    if (!job || job.id !== id || job.bytes < bytes || job.state === 'failed' || job.state === 'dropped') {
      job = new Job(src, id, bytes, this.tempPath());
      this.jobs.set(src, job);
      this.queue.push(job);
      this.pump();
    }
    const claimed = job;
    claimed.waiters++;
    let released = false;
    return {
      ready: claimed.ready,
      release: () => {
        if (released) return;
        released = true;
        if (--claimed.waiters === 0 && claimed.state !== 'taken') this.drop(claimed);
      },
    };
  }

  /**
   * The staged copy of `src` holding at least `bytes` bytes, if one is ready and `src` is still
   * what was copied; it is the caller's from now on (to rename into place). Undefined otherwise.
   */
  take(src: string, bytes: number): string | undefined {
    const job = this.jobs.get(src);
    if (!job || job.state !== 'ready' || job.bytes < bytes) return undefined;
    let now: BigIntStats;
    try {
      now = lstatSync(src, { bigint: true });
    } catch {
      return undefined; // gone: the copy-up in line meets that and reports it
    }
    if (identity(now) !== job.id) return undefined;
    job.state = 'taken';
    this.jobs.delete(src);
    return job.tmp;
  }

  /** Copies queued or under way (for tests and stats). */
  get inFlight(): number {
    return this.running + this.queue.length;
  }

  private drop(job: Job): void {
    if (this.jobs.get(job.src) === job) this.jobs.delete(job.src);
    const wasCopying = job.state === 'copying';
    job.state = 'dropped';
    if (wasCopying) job.abort.abort(); // the copy removes its file when it stops
    else rm(job.tmp, { force: true }, () => undefined);
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      job.finish('failed');
    }
  }

  private pump(): void {
    while (this.running < MAX_PARALLEL && this.queue.length > 0) {
      const job = this.queue.shift()!;
      this.running++;
      job.state = 'copying';
      copyInto(job, this.fsync).then(
        () => job.finish('ready'),
        () => {
          rm(job.tmp, { force: true }, () => undefined);
          job.finish('failed');
        },
      ).finally(() => {
        this.running--;
        if (job.state === 'dropped') rm(job.tmp, { force: true }, () => undefined);
        this.pump();
      });
    }
  }
}

/** Copy `job.bytes` of `job.src` into `job.tmp`, all in the thread pool; fails if the source changes. */
async function copyInto(job: Job, fsync: boolean): Promise<void> {
  const src = holdPath(job.src); // a long path: its directories' descriptor, held until the open is done
  const inp = await call<number>((cb) => open(src.path, O_RDONLY | O_NOFOLLOW, cb)).finally(() => src.release());
  try {
    const before = await call<BigIntStats>((cb) => fstat(inp, { bigint: true }, cb));
    if (identity(before) !== job.id) throw new Error(`${job.src} changed before it was copied`);
    const out = await call<number>((cb) => open(job.tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600, cb));
    try {
      await holdAt('copy-up-staging', job.abort.signal);
      await copySparseAsync(inp, out, job.bytes, job.abort.signal);
      if (fsync) await call<void>((cb) => fdatasync(out, cb));
    } finally {
      await call<void>((cb) => close(out, cb));
    }
    const after = await call<BigIntStats>((cb) => fstat(inp, { bigint: true }, cb));
    if (identity(after) !== job.id) throw new Error(`${job.src} changed while it was copied`);
    if (job.abort.signal.aborted) throw new CopyAborted('copy given up');
  } finally {
    close(inp, () => undefined);
  }
}

function call<T>(fn: (cb: (e: NodeJS.ErrnoException | null, v: T) => void) => void): Promise<T> {
  return new Promise((res, rej) => fn((e, v) => (e ? rej(e) : res(v))));
}
