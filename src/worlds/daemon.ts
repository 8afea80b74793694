// Starting and stopping the worldfs daemon that serves one world's view. The daemon is recorded
// in <world>/daemon as "pid start mountpoint" (start time guards against pid reuse). As root, a
// keeper (dist/worldkeep) holds the daemon's FUSE connection and starts a new daemon on it should
// the daemon die (docs/processes.md, "When a daemon dies"): a record whose daemon is gone is then
// followed to the one serving its mountpoint now.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { WorldError } from '../core/world-error.js';
import { writeFileAtomic } from '../registry/atomic-file.js';
import { findFuseMount } from '../host/mountinfo.js';
import { spawnKeptWithReadyFd } from '../host/ready-fd.js';
import { isAlive, refOf, type ProcessRef } from '../host/process-identity.js';

/** The repository root (where bin/worldfs is), found from this file in src/ or dist/src/. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'bin', 'worldfs')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error('cannot find bin/worldfs above ' + fileURLToPath(import.meta.url));
}

export interface DaemonRecord extends ProcessRef {
  readonly mountpoint: string;
}

export interface MountRequest {
  readonly lowers: readonly string[];
  readonly upper: string;
  readonly work: string;
  readonly whiteout: string;
  readonly prune: readonly string[];
  readonly seenlog: string;
  readonly log: string;
  readonly mountpoint: string;
  /** The file a running daemon reads its new stack from on SIGUSR1 (merge: alias of the ancestor). */
  readonly stack: string;
  /**
   * Mount suid,dev (as root): setuid programs and device nodes in the world work as on the host, as
   * in a container; false (a nosuid world), or rootless: the kernel's nosuid,nodev.
   */
  readonly suid: boolean;
  /** Let the kernel open files itself (open=kernel, as root); false: the daemon opens them (create --open daemon). */
  readonly kernelOpens: boolean;
  /** The daemon's node budget (nodes=, as root: the kernel transport's; create --nodes); absent: worldfs's default. */
  readonly maxNodes?: number;
  /** The daemon's fence directory (fenceDaemon); default `fence` beside the log, in the world's directory. */
  readonly fence?: string;
  /**
   * Where the daemon journals its node table, so that a keeper can start a new daemon on its
   * connection should it die (as root; the layout's nodeJournal). None: no keeper.
   */
  readonly journal?: string;
}

/** The fence directory of the daemon that logs to `logFile` (mountArgs gives it `fence=` there). */
const fenceDirOf = (logFile: string): string => join(dirname(logFile), 'fence');

/** Where the daemon of a request watches for fences. */
const fenceOf = (r: MountRequest) => r.fence ?? fenceDirOf(r.log);

const esc = (p: string) => p.replace(/([\\:,])/g, '\\$1');

/**
 * The worldfs -o string for a request. As root (the kernel transport, which can invalidate), the
 * daemon watches its lower layers (notify=auto: inotify for the worlds' layers, fanotify for a base
 * too big for inotify, a host root): a change to any lower layer invalidates exactly what it
 * touched, and the caches live long (notify_timeout=). Were fanotify missing, what the world and its
 * ancestors changed would still be cached long, and answers drawn from the base keep timeout=0.
 * Watched so, the kernel also opens files itself (open=kernel: no request per open(2), which a
 * command in a world makes by the thousand; fs/README.md says what it trades), unless the world
 * was created --open daemon. Rootless (fuse-native, which cannot invalidate), nothing is cached
 * (timeout=0): changes show at once. A merge into a world refreshes its daemon (refreshDaemon). Rootless, the view reports
 * everything as the caller's (squash_to_uid/gid): the world's user namespace maps the caller to
 * root, so its root owns the world's files, as a container's root does.
 */
export function mountOptions(r: MountRequest, uid = process.getuid?.() ?? 0, gid = process.getgid?.() ?? 0): string {
  if (r.lowers.some((l) => l.includes(',')) || r.upper.includes(',')) {
    throw new WorldError('IO', 'a layer path contains a comma, which mount options cannot carry');
  }
  return [
    `lowerdir=${r.lowers.map(esc).join(':')}`, `upperdir=${r.upper}`, `workdir=${r.work}`, `whiteout=${r.whiteout}`,
    `prune=${r.prune.map(esc).join(':')}`, `seenlog=${r.seenlog}`, `stack=${r.stack}`, 'timeout=0',
    ...(uid === 0 ? ['notify=auto', `fence=${fenceOf(r)}`] : []),
    ...(uid === 0 && r.kernelOpens ? ['open=kernel'] : []),
    ...(uid === 0 && r.maxNodes !== undefined ? [`nodes=${r.maxNodes}`] : []),
    ...(uid === 0 && r.journal !== undefined ? [`journal=${r.journal}`] : []),
    ...(uid === 0 && r.suid ? ['suid', 'dev'] : []),
    ...(uid === 0 ? [] : [`squash_to_uid=${uid}`, `squash_to_gid=${gid}`]),
  ].join(',');
}

/** Start a daemon and wait until its mount is ready. */
export async function startDaemon(r: MountRequest, recordFile: string): Promise<DaemonRecord> {
  mkdirSync(r.mountpoint, { recursive: true, mode: 0o700 });
  const log = openSync(r.log, 'a', 0o600);
  const root = repoRoot();
  const worldfs = [join(root, 'bin', 'worldfs'), '-f', '-o', mountOptions(r), r.mountpoint];
  const keeper = r.journal !== undefined && process.getuid?.() === 0 ? join(root, 'dist', 'worldkeep') : undefined;
  const started = spawnKeptWithReadyFd(keeper, worldfs, log);
  closeSync(log);
  const out = await started;
  if (!out.ready) {
    throw new WorldError('IO', `could not mount the world at ${r.mountpoint}: ${out.error ?? `the daemon exited; see ${r.log}`}`);
  }
  const ref = refOf(out.pid);
  if (!ref) throw new WorldError('IO', `the worldfs daemon for ${r.mountpoint} exited right after mounting; see ${r.log}`);
  const rec: DaemonRecord = { ...ref, mountpoint: r.mountpoint };
  writeFileAtomic(recordFile, `${rec.pid} ${rec.start} ${rec.mountpoint}\n`);
  return rec;
}

function parseRecord(line: string): DaemonRecord | undefined {
  const m = /^(\d+) (\d+) (.*)$/s.exec(line.trim());
  return m ? { pid: Number(m[1]), start: m[2]!, mountpoint: m[3]! } : undefined;
}

/**
 * The recorded daemon, if its process is still alive; or the daemon its keeper started on the
 * same connection after it died (the record is then rewritten to name it).
 */
export function liveDaemon(recordFile: string): DaemonRecord | undefined {
  if (!existsSync(recordFile)) return undefined;
  const rec = parseRecord(readFileSync(recordFile, 'utf8'));
  if (!rec) return undefined;
  if (isAlive(rec)) return rec;
  const next = successorOf(rec);
  if (next) writeFileAtomic(recordFile, `${next.pid} ${next.start} ${next.mountpoint}\n`);
  return next;
}

/**
 * Whether `arg` of a node command line is a worldfs daemon's script: bin/worldfs.mjs (what
 * bin/worldfs runs: the bundle, scripts/bundle.mjs) or tsc's dist/fs/main.js (run as it is).
 */
export function isWorldfsScript(arg: string): boolean {
  return arg.endsWith('/bin/worldfs.mjs') || arg.endsWith('/dist/fs/main.js');
}

/**
 * The processes whose command line is a worldfs (bin/worldfs, its script, or a keeper running
 * one) naming `mountpoint`, found in /proc: they hold no file on the mount they serve.
 */
export function worldfsProcessesAt(mountpoint: string): { pid: number; argv: string[] }[] {
  const out: { pid: number; argv: string[] }[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (argv[argv.length - 1] === '') argv.pop();
      if (argv.some((a) => a.endsWith('worldfs') || isWorldfsScript(a)) && argv.includes(mountpoint)) out.push({ pid: Number(name), argv });
    } catch { /* gone */ }
  }
  return out;
}

/**
 * The daemon serving `rec`'s mountpoint now, if `rec`'s died and a keeper started another on its
 * connection: the daemon itself (its script in the foreground, not its keeper) whose last
 * argument is that mountpoint. Only looked for when the recorded one is gone.
 */
function successorOf(rec: DaemonRecord): DaemonRecord | undefined {
  if (!findFuseMount(rec.mountpoint)) return undefined;
  const next = worldfsProcessesAt(rec.mountpoint).find(({ argv }) => argv[argv.length - 1] === rec.mountpoint && argv.includes('-f')
    && !argv[0]!.endsWith('/worldkeep') && argv.some(isWorldfsScript));
  const ref = next && refOf(next.pid);
  return ref ? { ...ref, mountpoint: rec.mountpoint } : undefined;
}

/**
 * Make a running daemon read its layers afresh, because they changed in place (a merge into its
 * world or an ancestor): SIGUSR1 without a stack file re-reads the same stack, drops the daemon's
 * caches and invalidates the kernel's (a stack file, an alias's, is re-read as it is). Waits for
 * its acknowledgement (`<stack>.ok`), bounded.
 */
export async function refreshDaemon(rec: DaemonRecord, stackFile: string): Promise<void> {
  mkdirSync(dirname(stackFile), { recursive: true, mode: 0o700 });
  rmSync(stackFile + '.ok', { force: true });
  try { process.kill(rec.pid, 'SIGUSR1'); } catch { return; }
  for (let i = 0; i < 200 && !existsSync(stackFile + '.ok') && isAlive(rec); i++) await sleep(25);
}

/**
 * Wait until a world's daemon has applied every change made to its lower layers before this call
 * (notify= reports them asynchronously): a fence file created in its fence directory is removed
 * by the daemon only after every earlier event (each watch's queue is in order) has dropped
 * its caches and reached the kernel. So a command started afterwards sees them. A daemon without
 * a fence directory (rootless: nothing cached) needs no wait; a bounded one, then on regardless.
 * The removal is awaited through an inotify watch on the directory (fs.watch); by polling only
 * where no watch can be had (the inotify limits reached). Returns what it found: the live
 * daemon's record and the fence directory, when there are.
 */
export async function fenceDaemon(logFile: string, recordFile: string, boundMs = 5000): Promise<{ daemon?: DaemonRecord; fence?: string }> {
  const dir = fenceDirOf(logFile);
  const daemon = liveDaemon(recordFile);
  if (!daemon) return {};
  if (!existsSync(dir)) return { daemon };
  const name = `${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}`;
  const f = join(dir, name);
  const deadline = Date.now() + boundMs;
  let done = () => {};
  const removed = new Promise<void>((resolve) => { done = resolve; });
  const poll = () => { void pollUntilGone(f, deadline).then(done); };
  let watcher: FSWatcher | undefined;
  try {
    // Watching before the file exists: its removal cannot come before the watch.
    watcher = watch(dir, { persistent: false }, (_event, changed) => { if (changed === name && !existsSync(f)) done(); });
    watcher.on('error', () => { watcher?.close(); poll(); });
  } catch { /* no watch to be had */ }
  const timer = setTimeout(done, boundMs);
  try {
    writeFileSync(f, '');
    if (!watcher) poll();
    else if (!existsSync(f)) done();
    await removed;
  } catch {
    /* no fence file: go on unfenced, as a daemon without a fence directory would */
  } finally {
    clearTimeout(timer);
    watcher?.close();
    rmSync(f, { force: true });
  }
  return { daemon, fence: dir };
}

/** Poll every 2 ms until `f` is gone or `deadline` passes. */
async function pollUntilGone(f: string, deadline: number): Promise<void> {
  while (existsSync(f) && Date.now() < deadline) await sleep(2);
}

/** Every alias record of a world, alive or not. */
function aliasRecords(aliasesFile: string): DaemonRecord[] {
  if (!existsSync(aliasesFile)) return [];
  return readFileSync(aliasesFile, 'utf8').split('\n').map(parseRecord).filter((r): r is DaemonRecord => r !== undefined);
}

/** An alias record's daemon: the recorded one while it lives, else the one its keeper started instead. */
const liveAlias = (r: DaemonRecord): DaemonRecord | undefined => (isAlive(r) ? r : successorOf(r));

/** Daemons that serve merged worlds' views as aliases of this world's (one record a line). */
export function liveAliases(aliasesFile: string): DaemonRecord[] {
  return aliasRecords(aliasesFile).map(liveAlias).filter((r): r is DaemonRecord => r !== undefined);
}

/** Add alias daemons to a world's list (dead entries are dropped). */
export function addAliases(aliasesFile: string, recs: readonly DaemonRecord[]): void {
  const all = [...liveAliases(aliasesFile), ...recs];
  writeFileAtomic(aliasesFile, all.map((r) => `${r.pid} ${r.start} ${r.mountpoint}\n`).join(''));
}

/** An alias of a world's view: a merged world's daemon, alive, or dead with its mount still there. */
export interface AliasMount extends DaemonRecord {
  readonly live: boolean;
  /** The stack file it was started with (read from its command line while it lives). */
  readonly stack?: string;
}

/** The alias mounts of a world that still exist (a record whose daemon died and whose mount is gone is none). */
export function aliasMounts(aliasesFile: string): AliasMount[] {
  const out: AliasMount[] = [];
  for (const recorded of aliasRecords(aliasesFile)) {
    const r = liveAlias(recorded);
    if (r) out.push({ ...r, live: true, ...withStack(stackFileOf(r.pid)) });
    else if (findFuseMount(recorded.mountpoint)) out.push({ ...recorded, live: false });
  }
  return out;
}

const withStack = (stack: string | undefined) => (stack === undefined ? {} : { stack });

/** Stop one alias (or clear its dead mount) and drop its record from the world's list. */
export async function stopAlias(aliasesFile: string, a: DaemonRecord): Promise<void> {
  if (isAlive(a)) await stopRecorded(a);
  else if (findFuseMount(a.mountpoint)) lazyUnmount(a.mountpoint); // its daemon died: clear the dead mount
  // By mountpoint too: `a` may be the daemon a keeper started in place of the recorded one.
  const rest = aliasRecords(aliasesFile).filter((r) => !(r.pid === a.pid && r.start === a.start) && r.mountpoint !== a.mountpoint);
  if (rest.length === 0) rmSync(aliasesFile, { force: true });
  else writeFileAtomic(aliasesFile, rest.map((r) => `${r.pid} ${r.start} ${r.mountpoint}\n`).join(''));
}

/** Stop every alias daemon of a world (at its deletion); returns what they were. */
export async function stopAliases(ctx: { layout: { aliasesFile(id: string): string } }, id: string): Promise<AliasMount[]> {
  const file = ctx.layout.aliasesFile(id);
  const all = aliasMounts(file);
  for (const a of all) await stopAlias(file, a);
  rmSync(file, { force: true });
  return all;
}

/** The stack file a daemon was started with (the stack= of its command line), while it runs. */
export function stackFileOf(pid: number): string | undefined {
  try {
    const m = /(?:^|,)stack=([^,]+)/.exec(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ','));
    if (m) return m[1]!;
  } catch { /* gone */ }
  return undefined;
}

/** The mountpoint recorded for a world whose daemon died, if its mount is still there (ENOTCONN). */
export function deadMount(recordFile: string): string | undefined {
  if (!existsSync(recordFile)) return undefined;
  const m = /^(\d+) (\d+) (.*)$/s.exec(readFileSync(recordFile, 'utf8').trim());
  if (!m || liveDaemon(recordFile)) return undefined;
  return findFuseMount(m[3]!) ? m[3]! : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Stop a world's daemon: SIGTERM (it unmounts and exits), then after `graceMs` a lazy unmount and
 * SIGKILL. Also clears a dead daemon's leftover mount. Removes the record.
 */
export async function stopDaemon(recordFile: string, graceMs = 10_000): Promise<void> {
  const rec = liveDaemon(recordFile);
  if (rec) {
    await stopRecorded(rec, graceMs);
  } else {
    const dead = deadMount(recordFile);
    if (dead) lazyUnmount(dead);
  }
  rmSync(recordFile, { force: true });
}

/** Stop one daemon: SIGTERM, then lazy unmount and SIGKILL after `graceMs`. */
async function stopRecorded(rec: DaemonRecord, graceMs = 10_000): Promise<void> {
  try { process.kill(rec.pid, 'SIGTERM'); } catch { /* already gone */ }
  const deadline = Date.now() + graceMs;
  while (isAlive(rec) && Date.now() < deadline) await sleep(50);
  if (isAlive(rec)) {
    // A daemon stuck in a FUSE request (to its own mount, say) survives SIGKILL until its
    // connection is aborted: abort it, then wait, bounded.
    abortConnection(rec.mountpoint);
    lazyUnmount(rec.mountpoint);
    try { process.kill(rec.pid, 'SIGKILL'); } catch { /* gone */ }
    const hard = Date.now() + 10_000;
    while (isAlive(rec) && Date.now() < hard) await sleep(20);
    if (isAlive(rec)) throw new WorldError('BUSY', `the worldfs daemon ${rec.pid} for ${rec.mountpoint} does not exit even after SIGKILL`);
  }
  if (findFuseMount(rec.mountpoint)) lazyUnmount(rec.mountpoint);
}

/** Abort the FUSE connection of a mount (/sys/fs/fuse/connections/<minor>/abort), if mounted. */
function abortConnection(mountpoint: string): void {
  const m = findFuseMount(mountpoint);
  if (!m) return;
  try {
    const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.startsWith(`${m.id} `));
    const minor = line?.split(' ')[2]?.split(':')[1];
    if (minor) writeFileSync(`/sys/fs/fuse/connections/${minor}/abort`, '1');
  } catch { /* no fusectl: the lazy unmount and SIGKILL are all we can do */ }
}

/** `umount -l` (else `fusermount3 -u -z`): detach a mount; a live daemon notices and exits. */
export function lazyUnmount(mountpoint: string): void {
  try {
    execFileSync('umount', ['-l', mountpoint], { stdio: 'ignore' });
  } catch {
    try { execFileSync('fusermount3', ['-u', '-z', mountpoint], { stdio: 'ignore' }); } catch { /* not mounted */ }
  }
}
