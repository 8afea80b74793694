// Test helper: a world store in a temp dir, driven through worldctl — in-process with run(argv, io)
// or as a real process (bin/worldctl). cleanup() always unmounts: `worldctl umount` for what the
// test mounted, then, for every mount left under the temp dir (read from /proc/self/mountinfo,
// never touching a mount), an abort of its FUSE connection and a lazy unmount, then SIGKILL to
// daemons recorded in <home>/worlds/*/daemon and .../aliases ("pid starttime mountpoint", start
// time checked so a reused pid is spared).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { run } from '../../cli/program.js';
import { RESEND_MS } from '../../fs/layer-notify.js';
import { cgroupHierarchies } from '../../src/ns/cgroup.js';
import { storeKey } from '../../src/worlds.js';
import { describeTree, type TreeEntry } from './tree.js';
import { mountsUnder, runBounded, soon, sweepUnder, type RunResult } from './procs.js';

export const REPO = resolve(import.meta.dirname, '..', '..');
export const WORLDCTL = join(REPO, 'bin', 'worldctl');

/**
 * The counters world `id`'s daemon prints on SIGUSR2 (requests served, view changes, ...), read
 * from its worldfs.log in the store at `home` (bounded wait for the line).
 */
export async function worldDaemonStats(home: string, id: string): Promise<Record<string, number>> {
  const pid = Number(readFileSync(join(home, 'worlds', id, 'daemon'), 'utf8').split(' ')[0]);
  const log = join(home, 'worlds', id, 'worldfs.log');
  const before = readFileSync(log, 'utf8').length;
  process.kill(pid, 'SIGUSR2');
  let line: string | undefined;
  await soon(() => (line = /worldfs: stats (\{.*\})\n/.exec(readFileSync(log, 'utf8').slice(before))?.[1]) !== undefined);
  return JSON.parse(line!) as Record<string, number>;
}

/** bin/worldctl on the store at `home`, synchronously (bounded): exit code, stdout, stderr. */
export function spawnWorldctl(home: string, args: readonly string[], timeoutMs = 60_000): { code: number; out: string; err: string } {
  const r = spawnSync(WORLDCTL, args, { env: { ...process.env, WORLDOS_HOME: home }, encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

/**
 * bin/worldctl on the store `home()` names (read at each call: tests make it in beforeEach):
 * `ctl` gives the result, `ok` throws (with stderr and the end of stdout) unless it exits 0.
 * `timeoutMs` bounds each call: a hang detector, never a speed check.
 */
export function worldctlAt(home: () => string, timeoutMs = 60_000) {
  const ctl = (...args: string[]) => spawnWorldctl(home(), args, timeoutMs);
  const ok = (...args: string[]): string => {
    const r = ctl(...args);
    if (r.code !== 0) throw new Error(`worldctl ${args.join(' ')} exited ${r.code}: ${r.err}\n${r.out.slice(-2000)}`);
    return r.out;
  };
  return { ctl, ok };
}

/**
 * A store over / made afresh for each test of the calling file (`init --base /` in beforeEach), and
 * everything it made gone after each, whatever happened (its worlds deleted, then every mount and
 * process under its temp directory swept, the directory removed): the frame of the e2e files that
 * drive bin/worldctl as a user at a shell would. `ok` fails the test unless worldctl exits 0.
 */
export function storeOverRootEachTest(prefix: string) {
  let dir = '';
  const home = () => join(dir, 'home');
  const { ctl: run, ok } = worldctlAt(home);
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
    ok('init', '--base', '/');
  });
  afterEach(() => {
    const worlds = JSON.parse(run('list', '--json').out || '[]') as { name: string; parents: string[]; base?: boolean }[];
    for (const w of worlds.filter((x) => !x.base && x.parents.includes('w0'))) run('delete', w.name, '--recursive');
    sweepUnder(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  /** `worldctl ps W --json`: host pid, pid inside, command. */
  const ps = (w: string) => JSON.parse(ok('ps', w, '--json')) as { pid: number; nspid: number; command: string }[];
  return { home, dir: () => dir, ctl: run, ok, ps };
}

export interface CtlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** A view as comparable data: relative path -> type, mode, size, sha256, symlink target. */
export type View = Record<string, TreeEntry>;

/**
 * Wait until a world daemon's second notice of the layer changes made so far has gone out (it
 * resends every invalidation RESEND_MS later, fs/layer-notify.ts): a test that counts requests
 * from now on must not count the kernel asking again for what that notice dropped.
 */
export function afterResend(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, RESEND_MS * 5));
}

/** The cgroup directory of world `id` of the store at `home`, in the hierarchy worlds join; undefined where none is writable. */
export function worldCgroupDir(home: string, id: string): string | undefined {
  return cgroupHierarchies()[0]?.cgroup(`${storeKey(home)}-${id}`).dir;
}

/** Safety net: remove what is left of the cgroups of the store at `home`, in every hierarchy (busy ones stay). */
export function removeStoreCgroups(home: string): void {
  for (const h of cgroupHierarchies({})) {
    if (!existsSync(h.worldsDir)) continue;
    for (const d of readdirSync(h.worldsDir).filter((x) => x.startsWith(`${storeKey(home)}-`))) {
      try { rmdirSync(join(h.worldsDir, d)); } catch { /* busy */ }
    }
  }
}

export class WorldsFixture {
  /** Every home a test used (the crash test makes many); cleanup kills their daemons. */
  private readonly homes = new Set<string>();
  /** "home\0name" of worlds mounted through this fixture and not unmounted since. */
  private readonly mounted = new Set<string>();
  private readonly children: ChildProcess[] = [];

  private constructor(readonly root: string, readonly base: string, readonly home: string) {
    this.homes.add(home);
  }

  /** A temp dir with an empty `base/` (fill it before `init`) and `home` (not yet initialised). */
  static make(prefix = 'worldos-ctl-'): WorldsFixture {
    const root = mkdtempSync(join(tmpdir(), prefix));
    const base = join(root, 'base');
    mkdirSync(base);
    return new WorldsFixture(root, base, join(root, 'home'));
  }

  /** worldctl in-process against `home` (default: this fixture's), capturing its output. */
  async ctl(argv: readonly string[], home = this.home): Promise<CtlResult> {
    this.homes.add(home);
    let stdout = '';
    let stderr = '';
    const code = await run(['--home', home, ...argv], {
      stdout: (s) => { stdout += s; },
      stderr: (s) => { stderr += s; },
      env: { PATH: process.env.PATH },
    });
    if (code === 0 && argv[0] === 'mount') this.mounted.add(`${home}\0${argv[1]}`);
    if (code === 0 && argv[0] === 'umount') this.mounted.delete(`${home}\0${argv[1]}`);
    return { code, stdout, stderr };
  }

  /** worldctl in-process, failing the test (with its stderr) unless it exits 0. */
  async ok(argv: readonly string[], home = this.home): Promise<string> {
    const r = await this.ctl(argv, home);
    if (r.code !== 0) {
      // A daemon that failed to mount says why in its log: show it with the failure.
      const log = /see (\S+worldfs\.log)/.exec(r.stderr)?.[1];
      const tail = log && existsSync(log) ? `\n--- ${log}:\n${readFileSync(log, 'utf8').slice(-4000)}` : '';
      throw new Error(`worldctl ${argv.join(' ')} exited ${r.code}: ${r.stderr}${tail}`);
    }
    return r.stdout;
  }

  /** bin/worldctl as a real process (bounded). */
  async bin(argv: readonly string[], home = this.home): Promise<RunResult> {
    this.homes.add(home);
    const r = await runBounded(WORLDCTL, ['--home', home, ...argv], { timeoutMs: 60_000 });
    if (r.status === 0 && argv[0] === 'mount') this.mounted.add(`${home}\0${argv[1]}`);
    if (r.status === 0 && argv[0] === 'umount') this.mounted.delete(`${home}\0${argv[1]}`);
    return r;
  }

  /** Start bin/worldctl without waiting (the crash test kills it); killed in cleanup if still running. */
  spawnBin(argv: readonly string[], home = this.home): ChildProcess {
    this.homes.add(home);
    const child = spawn(WORLDCTL, ['--home', home, ...argv], { stdio: 'ignore' });
    this.children.push(child);
    return child;
  }

  /** `worldctl init --base <base>` (0 expected). */
  async init(home = this.home): Promise<void> {
    await this.ok(['init', '--base', this.base], home);
  }

  /** Mount a world at its default place; returns the mountpoint. */
  async mount(name: string, home = this.home): Promise<string> {
    return (await this.ok(['mount', name], home)).trim();
  }

  async umount(name: string, home = this.home): Promise<void> {
    await this.ok(['umount', name], home);
  }

  /** Mount, read the whole view, unmount. */
  async viewOf(name: string, home = this.home): Promise<View> {
    const m = await this.mount(name, home);
    try {
      return describeTree(m);
    } finally {
      await this.umount(name, home);
    }
  }

  /** The registry as `list --json` shows it. */
  async worlds(home = this.home): Promise<{ id: string; name: string; parents: string[]; state: string; layer: string; mountpoint?: string }[]> {
    return JSON.parse(await this.ok(['list', '--json'], home)) as never;
  }

  async cleanup(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const key of [...this.mounted]) {
      const [home, name] = key.split('\0') as [string, string];
      try { await this.ctl(['umount', name], home); } catch { /* the safety net below */ }
    }
    // Safety net: whatever is still mounted under the temp dir, deepest first, lazily. A FUSE
    // connection is aborted first: a daemon stuck on a request (one that reads its own mount) does
    // not die of SIGKILL, nor do the processes waiting on it, until its connection is aborted.
    for (const m of fuseConnectionsUnder(this.root)) abortFuseConnection(m.device);
    for (const m of mountsUnder(this.root).map((x) => x.mnt).sort().reverse()) {
      spawnSync('umount', ['-l', m], { stdio: 'ignore' });
    }
    for (const home of this.homes) killRecordedDaemons(home);
    // A daemon killed just now may still be closing its log: retry the removal briefly.
    try {
      rmSync(this.root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
    } catch (e) {
      // Trees past PATH_MAX (a deep-path test): node's rmSync names them by full path, rm(1) does not.
      if ((e as NodeJS.ErrnoException).code !== 'ENAMETOOLONG') throw e;
      const r = spawnSync('rm', ['-rf', '--one-file-system', this.root], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`rm -rf ${this.root}: ${r.stderr}`);
    }
  }
}

/**
 * SIGKILL every daemon recorded under <home>/worlds/<id>/daemon (one record) and
 * <home>/worlds/<id>/aliases (one a line: daemons still serving merged worlds' views), each
 * "pid starttime mountpoint", whose start time still matches.
 */
export function killRecordedDaemons(home: string): void {
  const dir = join(home, 'worlds');
  if (!existsSync(dir)) return;
  for (const id of readdirSync(dir)) {
    for (const file of ['daemon', 'aliases']) {
      let text: string;
      try { text = readFileSync(join(dir, id, file), 'utf8'); } catch { continue; }
      for (const line of text.split('\n')) {
        const m = /^(\d+) (\d+) /.exec(line);
        if (!m) continue;
        const pid = Number(m[1]);
        if (startTime(pid) !== m[2]) continue;
        try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }
}

/** FUSE mounts at or under `dir` with their device number (mountinfo field 3, "major:minor"). */
export function fuseConnectionsUnder(dir: string): { mnt: string; device: string }[] {
  const out: { mnt: string; device: string }[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0 || !f[sep + 1]!.startsWith('fuse')) continue;
    const mnt = f[4]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (mnt === dir || mnt.startsWith(dir + '/')) out.push({ mnt, device: f[2]! });
  }
  return out;
}

const FUSECTL = '/sys/fs/fuse/connections';

/**
 * Abort a FUSE connection through fusectl (<FUSECTL>/<minor>/abort). fusectl is mounted first if
 * it is not (systemd does this at boot; minimal containers do not).
 */
export function abortFuseConnection(device: string): void {
  const abort = join(FUSECTL, device.split(':')[1]!, 'abort');
  if (!existsSync(abort) && existsSync(FUSECTL) && readdirSync(FUSECTL).length === 0) {
    spawnSync('mount', ['-t', 'fusectl', 'fusectl', FUSECTL], { stdio: 'ignore' });
  }
  try { writeFileSync(abort, '1'); } catch { /* the connection is gone already */ }
}

function startTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

/** Paths (relative) whose entries differ between two views, with both sides, for readable failures. */
export function viewDiff(expected: View, actual: View): string[] {
  const paths = [...new Set([...Object.keys(expected), ...Object.keys(actual)])].sort();
  return paths.filter((p) => JSON.stringify(expected[p]) !== JSON.stringify(actual[p]))
    .map((p) => `${p}: expected ${JSON.stringify(expected[p] ?? '(absent)')}, got ${JSON.stringify(actual[p] ?? '(absent)')}`);
}

/** Every file and directory under `dir`, relative, sorted (for "the layer is empty" checks). */
export function listRecursive(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const d of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${d.name}` : d.name;
      out.push(r);
      if (d.isDirectory()) walk(r);
    }
  };
  walk('');
  return out.sort();
}
