// The worldfs command: mount one union view. Foreground with -f; otherwise it starts itself in the
// background (under dist/worldkeep with journal=: a daemon that dies is replaced on the same
// connection) and returns once the mount is ready (or reports why it is not). Exits cleanly on
// SIGTERM/SIGINT/SIGHUP, and exits when the mount is removed from outside (umount, fusermount -u).
import { closeSync, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fuseDeviceProblem, mayAllowOther } from '../src/host/fuse-device.js';
import { findFuseMount, readMounts } from '../src/host/mountinfo.js';
import { spawnKeptWithReadyFd } from '../src/host/ready-fd.js';
import type { HostLayers } from '../src/host/layer-probe.js';
import type { LayerNotifier } from './layer-notify.js';
import { parseArgs, UsageError, type MountOptions, type StackFile } from './options.js';
import type { WorldFs } from './worldfs.js';
import { setup, SetupError, type Setup } from './setup.js';
import { cacheBudget } from '../src/core/lower-cache.js';
import { createTransport } from './transport/select.js';
import type { Transport } from './transport/transport.js';

const MOUNT_POLL_MS = 500;

function readyChannel(): { ok(): void; fail(msg: string): void } {
  const fd = process.env.WORLDFS_READY_FD ? Number(process.env.WORLDFS_READY_FD) : undefined;
  delete process.env.WORLDFS_READY_FD;
  const send = (line: string) => {
    if (fd === undefined) return;
    try {
      writeSync(fd, line + '\n');
      closeSync(fd);
    } catch { /* the parent went away */ }
  };
  // The pid: a keeper (worldkeep) between the caller and the daemon makes the caller's child another process.
  return { ok: () => send(`ready ${process.pid}`), fail: (msg) => send('error ' + msg.replace(/\n/g, ' ')) };
}

/**
 * /dev/fuse as a keeper (worldkeep.c) hands it over: WORLDFS_DEVICE_FD, and WORLDFS_TAKEOVER when
 * the daemon that mounted it died and this one is to serve its connection. Read once, and kept
 * from the children the daemon starts.
 */
function keptDevice(): { fd: number; takeover: boolean } | undefined {
  const fd = process.env.WORLDFS_DEVICE_FD;
  const takeover = process.env.WORLDFS_TAKEOVER === '1';
  delete process.env.WORLDFS_DEVICE_FD;
  delete process.env.WORLDFS_TAKEOVER;
  return fd !== undefined && /^\d+$/.test(fd) ? { fd: Number(fd), takeover } : undefined;
}

/**
 * The options with the layers of the stack= file, where it exists (the stack a SIGUSR1 switched
 * to); otherwise as they are.
 */
function withStackFile(opts: MountOptions): MountOptions {
  if (opts.stack === undefined || !existsSync(opts.stack)) return opts;
  const spec = JSON.parse(readFileSync(opts.stack, 'utf8')) as Omit<StackFile, 'workdir'> & { workdir?: string };
  return { ...opts, lowerdirs: spec.lowerdirs, upperdir: spec.upperdir, workdir: spec.workdir, seenlog: spec.seenlog, prune: spec.prune ?? opts.prune };
}

async function serve(given: MountOptions): Promise<number> {
  const ready = readyChannel();
  const device = keptDevice();
  const takeover = device?.takeover === true;
  // Taking over: the dead daemon may have switched to a stack file's layers; the mountpoint is
  // mounted and served by nobody but us, so it is not stat'ed (setup's `mounted`).
  const opts = takeover ? withStackFile(given) : given;
  process.umask(0); // modes arrive already masked by the kernel
  let transport: Transport;
  let mountpoint: string;
  let layers: HostLayers;
  let fs: WorldFs;
  let notifier: LayerNotifier | undefined;
  try {
    const fuseProblem = fuseDeviceProblem();
    if (fuseProblem) throw new SetupError(fuseProblem);
    const s = setup(opts, takeover ? resolve(opts.mountpoint) : undefined);
    mountpoint = s.mountpoint;
    layers = s.layers;
    fs = s.fs;
    notifier = s.notifier;
    hideFuseMounts(layers, mountpoint);
    transport = createTransport(opts.transport, s.fs, {
      mountpoint, fsname: opts.fsname, allowOther: opts.allowOther && mayAllowOther(), cacheTimeout: opts.cacheTimeout,
      ...(s.notified ? { notifiedTimeout: opts.notifiedTimeout } : {}),
      ...(!s.notified && s.notifiedLayers > 0 ? { notifiedLayers: s.notifiedLayers, notifiedLayersTimeout: opts.notifiedTimeout } : {}),
      kernelFlags: opts.kernelFlags, debug: opts.debug, writebackCache: opts.writebackCache, acl: opts.acl, passthrough: opts.passthrough !== 'off',
      kernelOpens: opts.open === 'kernel', readdirplus: opts.readdirplus, busyPollUs: opts.busyPollUs, maxNodes: opts.maxNodes,
      ...(device ? { device } : {}), ...(opts.journal !== undefined ? { journal: opts.journal } : {}),
    });
    await transport.mount();
    // Changes seen while mounting: the kernel may have cached names before they were reported.
    notifier?.attach(transport);
  } catch (e) {
    notifier?.close();
    const msg = e instanceof SetupError ? e.message : `mount failed: ${(e as Error).message}`;
    process.stderr.write(`worldfs: ${msg}\n`);
    ready.fail(msg);
    return 1;
  }
  const mount = findFuseMount(mountpoint);
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (code: number, doUnmount: boolean) => {
      if (stopping) return;
      stopping = true;
      clearInterval(watch);
      notifier?.close();
      (doUnmount ? transport.unmount() : Promise.resolve()).then(
        () => resolve(code),
        (e: Error) => {
          process.stderr.write(`worldfs: ${e.message}\n`);
          resolve(1);
        },
      );
    };
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.on(sig, () => stop(0, true));
    void transport.closed?.then(() => stop(0, false)); // unmounted from outside: the device said ENODEV
    // SIGUSR2: one line of counters on stderr (the soak test watches the node table and memory with it).
    process.on('SIGUSR2', () => {
      const m = process.memoryUsage();
      const stats = { ...transport.stats?.(), ...notifier?.counters, rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external };
      process.stderr.write(`worldfs: stats ${JSON.stringify(stats)}\n`);
    });
    // Node starts its inspector (a debugger on 127.0.0.1:9229, in a root daemon) on a SIGUSR1 nobody
    // handles: a daemon without stack= still takes the signal, and ignores it.
    if (opts.stack === undefined) process.on('SIGUSR1', () => {});
    if (opts.stack !== undefined) {
      process.on('SIGUSR1', () => {
        const next = reload(opts, fs, mountpoint, transport);
        if (!next) return;
        notifier?.close();
        ({ layers, notifier } = next);
        notifier?.attach(transport);
        transport.setLifetime?.(
          next.notified ? opts.notifiedTimeout : cacheBudget(opts.udba, opts.cacheTimeout).kernelSeconds,
          next.notified ? { layers: Infinity, seconds: opts.notifiedTimeout }
            : next.notifiedLayers > 0 ? { layers: next.notifiedLayers, seconds: opts.notifiedTimeout } : undefined,
        );
      });
    }
    // The kernel tells libfuse, not us, when the mount goes away: watch mountinfo (never the mount).
    const watch = setInterval(() => {
      const mounts = readMounts();
      const now = findFuseMount(mountpoint, mounts);
      if (!now || (mount && now.id !== mount.id)) return stop(0, false);
      hideFuseMounts(layers, mountpoint, mounts);
    }, MOUNT_POLL_MS);
    // Only now: a signal before its handler is installed takes its default action, which ends
    // the daemon (SIGUSR2 right after "ready" killed 9 of 15 daemons on a busy machine).
    ready.ok();
  });
}

/**
 * Switch to the layer stack in the stack= file; on any error keep serving the old one. No stack
 * file: the same stack, changed in place (a merge into this world): read afresh all the same.
 */
function reload(opts: MountOptions, fs: WorldFs, mountpoint: string, transport: Transport): Setup | undefined {
  try {
    const spec = withStackFile(opts);
    const next = setup(spec, mountpoint);
    fs.swap(next.fs.union);
    const invalidated = transport.invalidate?.();
    lastHidden = '';
    hideFuseMounts(next.layers, next.mountpoint);
    // worldctl waits for this: written once the kernel has been told to forget, so it may read at once.
    const ack = () => {
      try {
        writeFileSync(opts.stack + '.ok', spec.upperdir + '\n', { mode: 0o600 }); // umask is 0 here
      } catch (e) {
        process.stderr.write(`worldfs: reload: cannot acknowledge in ${opts.stack}.ok: ${(e as Error).message}\n`);
      }
    };
    void Promise.resolve(invalidated).then(ack, ack);
    process.stderr.write(`worldfs: now serving ${spec.upperdir} over ${spec.lowerdirs.join(':')}\n`);
    return next;
  } catch (e) {
    process.stderr.write(`worldfs: reload from ${opts.stack} failed, still serving the old stack: ${(e as Error).message}\n`);
    return undefined;
  }
}

let lastHidden = '';
/** Keep every other FUSE mount inside a lower layer out of the view (see HostLayers). */
function hideFuseMounts(layers: HostLayers, self: string, mounts = readMounts()): void {
  // Our own mountpoint too: a lower layer may contain it (a world whose base is /).
  const fuse = [self, ...mounts.filter((m) => m.fstype.startsWith('fuse') && m.mountpoint !== self).map((m) => m.mountpoint)];
  const key = fuse.join('\0');
  if (key === lastHidden) return;
  lastHidden = key;
  layers.setHiddenMounts(fuse);
}

/** Start `worldfs ... -f` detached and wait for its ready line. */
async function daemonize(argv: readonly string[], opts: MountOptions): Promise<number> {
  const log = opts.log ? openSync(opts.log, 'a', 0o600) : 'ignore';
  // The script node ran (bin/worldfs.mjs, or this module itself), with the same node flags.
  const daemon = [process.execPath, ...process.execArgv, process.argv[1]!, ...argv, '-f'];
  // With journal=, under a keeper that holds the connection and starts a new daemon on it should this one die.
  const keeper = opts.journal !== undefined ? fileURLToPath(new URL('../worldkeep', import.meta.url)) : undefined;
  const started = spawnKeptWithReadyFd(keeper, daemon, log);
  if (typeof log === 'number') closeSync(log);
  const r = await started;
  if (r.ready) return 0;
  process.stderr.write(`worldfs: ${r.error ?? 'the daemon exited before the mount was ready'}\n`);
  return 1;
}

async function main(argv: readonly string[]): Promise<number> {
  let opts: MountOptions;
  try {
    opts = parseArgs(argv, { transport: process.env.WORLDFS_TRANSPORT });
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(e.message + '\n');
      return 2;
    }
    throw e;
  }
  return opts.foreground ? serve(opts) : daemonize(argv, opts);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    process.stderr.write(`worldfs: ${e.stack ?? e}\n`);
    process.exit(1);
  },
);
