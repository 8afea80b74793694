// The kernel-protocol transport: worldfs speaks FUSE on /dev/fuse itself, in TypeScript with no
// native code (fs/transport/kernel/). Inode-based: the kernel's node ids map to view paths in a
// table with lookup counts; the caller's uid/gid reach WorldFs, so new files are the caller's.
import { readFileSync, writeFileSync } from 'node:fs';
import type { ViewChange } from '../../src/core/layer-change.js';
import { cacheBudget } from '../../src/core/lower-cache.js';
import { findFuseMount } from '../../src/host/mountinfo.js';
import { unmount as unmountPath } from '../unmount.js';
import type { WorldFs } from '../worldfs.js';
import { FuseDevice } from './kernel/device.js';
import { KernelOps } from './kernel/ops.js';
import { Init2 } from './kernel/protocol.js';
import { Session } from './kernel/session.js';
import { TakeoverJournal, readJournal } from './kernel/takeover-journal.js';
import type { NotifiedLifetime, Transport, TransportOptions } from './transport.js';

/** Largest write (and read) per request: 1 MiB, 256 pages (the kernel's default max_pages limit). */
const MAX_WRITE = 1024 * 1024;
/** How long an unmount waits for the kernel to end the connection before aborting it. */
const UNMOUNT_GRACE_MS = 2000;

export class KernelTransport implements Transport {
  private device: FuseDevice | undefined;
  private ops: KernelOps | undefined;
  private expireOnly = false;
  /** The lifetimes every reply carries; changed in place by `setLifetime`. */
  private readonly timeouts = { entry: 0, attr: 0, negative: 0, notifiedLayers: 0, notified: 0 };

  constructor(private readonly fs: WorldFs, private readonly opts: TransportOptions) {}

  /** Settles when the connection ends (unmounted from outside, or by us). */
  get closed(): Promise<string> | undefined {
    return this.device?.closed;
  }

  /**
   * Nodes the kernel holds (plus their parents), open directory streams and listings kept by node:
   * what a leak would grow; then the request counters.
   */
  stats(): Record<string, number> {
    const dirs = this.ops?.dirs;
    return {
      nodes: this.ops?.nodes.size ?? 0, dirs: dirs?.size ?? 0, listings: dirs?.byNode.size ?? 0, files: this.fs.handles.size,
      ...this.ops?.counters, ...dirs?.counters, listingsSwept: dirs?.sweep.swept ?? 0, ...this.ops?.passthroughCounters, ...this.ops?.budgetCounters,
      ...(this.ops ? { nodeFilesKept: this.ops.nodeFileCounters.kept, nodeFilesOpened: this.ops.nodeFileCounters.opened, nodeFilesEvicted: this.ops.nodeFileCounters.evicted } : {}),
      ...this.device?.busyPollStats, ...this.ops?.requestsByOp,
    };
  }

  async mount(): Promise<void> {
    // Half of timeout= for the kernel, the other half for the daemon's lower cache (lower-cache.ts),
    // as with fuse-native: a change made to a lower layer behind our back shows within timeout=.
    // Unless every lower-layer change is reported (notifiedTimeout, see fs/layer-notify.ts): then
    // each is invalidated as it comes, and the lifetime is only a safety net.
    const t = this.opts.notifiedTimeout ?? cacheBudget('reval', this.opts.cacheTimeout).kernelSeconds;
    // Entries and attributes alike live that long: the node table keeps an inode's identity
    // through our own copy-ups, the kernel refreshes what our replies change, and a reload
    // (a merge landing) invalidates everything at once (invalidate()).
    const full = this.opts.notifiedTimeout !== undefined;
    const partial = !full && (this.opts.notifiedLayers ?? 0) > 0;
    this.setLifetime(t, full ? { layers: Infinity, seconds: t }
      : partial ? { layers: this.opts.notifiedLayers!, seconds: this.opts.notifiedLayersTimeout ?? t } : undefined);
    const kernelOpens = this.opts.kernelOpens === true;
    const takeover = this.opts.device?.takeover === true;
    if (takeover && this.opts.journal === undefined) throw new Error('taking a connection over needs its node journal (journal=)');
    let ops: KernelOps | undefined;
    const journal = this.opts.journal === undefined ? undefined : new TakeoverJournal(this.opts.journal, () => ops?.openDecisions ?? {}, !takeover);
    ops = new KernelOps(this.fs, this.timeouts, MAX_WRITE, kernelOpens, journal?.table);
    const device = new FuseDevice(MAX_WRITE, this.opts.device?.fd, (this.opts.busyPollUs ?? 0) * 1000);
    const session = new Session(device, ops, MAX_WRITE, {
      writeback: this.opts.writebackCache === true, acl: this.opts.acl === true, passthrough: this.opts.passthrough === true, kernelOpens,
      readdirplus: this.opts.readdirplus,
    }, journal);
    ops.limitNodes(this.opts.maxNodes ?? 0, (notices, onError) => device.notify(notices, onError));
    this.device = device;
    this.ops = ops;
    // The connection ended (unmounted): there is nothing left to take over.
    void device.closed.then(() => journal?.close(true));
    if (takeover) return this.takeOver(device, session, ops, journal!);
    const flags = this.opts.kernelFlags;
    const options = [
      'default_permissions',
      ...(this.opts.allowOther ? ['allow_other'] : []),
      // As libfuse: nosuid,nodev unless asked otherwise.
      ...(flags.includes('suid') ? [] : ['nosuid']),
      ...(flags.includes('dev') ? [] : ['nodev']),
      ...flags,
    ];
    try {
      await device.mount({ mountpoint: this.opts.mountpoint, fsname: this.opts.fsname.replace(/[,\\\s]/g, '_'), options });
      // Only now: before the mount, the device is not attached to a connection and reads fail EPERM.
      // mount(8) does not touch the new mount, so nothing waits on INIT meanwhile.
      device.serve((req) => session.handle(req));
      const negotiated = await Promise.race([session.ready, device.closed.then((why) => { throw new Error(`connection ended before INIT: ${why}`); })]);
      this.expireOnly = (negotiated.flags2 & Init2.HAS_EXPIRE_ONLY) !== 0;
    } catch (e) {
      device.close();
      // Mounted but never initialised: do not leave a dead mount behind.
      if (findFuseMount(this.opts.mountpoint)?.fstype === 'fuse.worldfs' && device.wasMounted) {
        await unmountPath(this.opts.mountpoint, true).catch(() => undefined);
      }
      throw e;
    }
  }

  /**
   * Serve a connection whose daemon died (the keeper, worldkeep.c, kept it and started us on it):
   * the node table and the INIT's outcome as the journal has them, then the kernel's unanswered
   * requests resent, and everything it may cache of the view invalidated once (what changed while
   * nobody served it, the new daemon's watches never saw).
   */
  private async takeOver(device: FuseDevice, session: Session, ops: KernelOps, journal: TakeoverJournal): Promise<void> {
    const t0 = performance.now();
    const saved = readJournal(this.opts.journal!);
    const negotiated = session.restore(saved.init);
    ops.restoreOpenDecisions(saved.decisions);
    journal.restore(saved);
    const restoreMs = performance.now() - t0;
    this.expireOnly = (negotiated.flags2 & Init2.HAS_EXPIRE_ONLY) !== 0;
    device.wasMounted = true;
    device.serve((req) => session.handle(req));
    // From here on requests are served: the time to this point is the pause processes in the world saw, past the death.
    const servingMs = process.uptime() * 1000;
    try {
      await device.resend();
    } catch (e) {
      process.stderr.write(`worldfs: the kernel cannot resend requests (${(e as Error).message}): those the dead daemon had read stay unanswered\n`);
    }
    process.stderr.write(`worldfs: took over the connection of ${this.opts.mountpoint} (${ops.nodes.size} nodes restored in ${restoreMs.toFixed(0)} ms; `
      + `serving ${servingMs.toFixed(0)} ms after this daemon started)\n`);
    // In the background, while requests are served: a big table takes seconds.
    const t1 = performance.now();
    void this.invalidate().then(() => {
      process.stderr.write(`worldfs: takeover: everything the kernel cached of the view invalidated in ${(performance.now() - t1).toFixed(0)} ms\n`);
    });
  }

  /**
   * The layer stack changed under the kernel's caches: make it forget them. Resolves once every
   * notification is written (a reload acknowledges only then: whoever waits for it may read at once).
   */
  invalidate(): Promise<void> {
    if (!this.ops) return Promise.resolve();
    return this.tell(this.ops.invalidations(this.expireOnly));
  }

  /** Lower-layer names changed (fs/layer-notify.ts): make the kernel forget what it caches of them; resolves once told. */
  invalidateChanges(changes: readonly ViewChange[]): Promise<void> {
    if (!this.ops) return Promise.resolve();
    return this.tell(this.ops.ledger.forChanges(changes, this.expireOnly));
  }

  /** Write notifications in order (FuseDevice.notify); resolves when these and all earlier ones are written. */
  private tell(notices: Iterable<Buffer>): Promise<void> {
    return this.device?.notify(notices) ?? Promise.resolve();
  }

  /**
   * Entry, attribute and negative lifetimes of replies from now on, in seconds (the cache's past
   * answers keep theirs); with `notified`, answers drawn from its first layers alone live its time.
   */
  setLifetime(seconds: number, notified?: NotifiedLifetime): void {
    this.timeouts.entry = this.timeouts.attr = this.timeouts.negative = seconds;
    this.timeouts.notifiedLayers = notified?.layers ?? 0;
    this.timeouts.notified = notified?.seconds ?? seconds;
  }

  async unmount(): Promise<void> {
    const device = this.device;
    if (!device || device.isClosed) return;
    const conn = connectionOf(this.opts.mountpoint);
    try {
      await unmountPath(this.opts.mountpoint, true);
    } catch (e) {
      if (findFuseMount(this.opts.mountpoint)) throw e;
    }
    // A lazy unmount of a busy mount keeps the connection until its last user goes: cut it.
    const ended = await Promise.race([device.closed.then(() => true), delay(UNMOUNT_GRACE_MS).then(() => false)]);
    if (!ended && conn !== undefined) abortConnection(conn);
    this.fs.handles.closeAll();
    device.close('unmounted');
  }
}

const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/** The fusectl connection number (the device minor, from mountinfo) of the FUSE mount at `mountpoint`. */
function connectionOf(mountpoint: string): string | undefined {
  const m = findFuseMount(mountpoint);
  if (!m) return undefined;
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.startsWith(`${m.id} `));
  return line?.split(' ')[2]?.split(':')[1];
}

/** Abort a FUSE connection through fusectl: every waiting request fails, the device reads ENODEV. */
function abortConnection(conn: string): void {
  try {
    writeFileSync(`/sys/fs/fuse/connections/${conn}/abort`, '1');
  } catch { /* fusectl not mounted, or already gone */ }
}
