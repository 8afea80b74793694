// The worldfs command as users run it: foreground (-f) and daemon mode, stopping by signal and by
// an external umount, `mount -t fuse.worldfs` through bin/mount.fuse.worldfs, and refusal of bad
// input with a clear message and nothing left behind. Daemons are found through /proc, never the mount.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { isMounted, ROOT, stackDirs, tempDir, WORLDFS } from '../helpers/worldfs.js';
import { alive, keeperOf, mountsUnder, runBounded, waitUntil, worldfsPids } from '../helpers/procs.js';

const MOUNT_HELPER = '/usr/sbin/mount.fuse.worldfs';

let tmp: ReturnType<typeof tempDir>;

/** Stop every worldfs server that names `dir`, then detach any mount left under it (bounded). */
async function sweep(dir: string): Promise<void> {
  const signal = (pid: number, sig: NodeJS.Signals) => {
    try { process.kill(pid, sig); } catch { /* exited meanwhile */ }
  };
  for (const pid of worldfsPids(dir)) signal(pid, 'SIGTERM');
  await waitUntil(() => worldfsPids(dir).length === 0 && worldfsPids(dir, true).length === 0, 10_000);
  for (const m of mountsUnder(dir).reverse()) {
    try { execFileSync('umount', ['-l', m.mnt], { stdio: 'ignore' }); } catch { /* gone already */ }
  }
  // Keepers first: one whose daemon is killed first would start another.
  for (const pid of [...worldfsPids(dir, true), ...worldfsPids(dir)]) signal(pid, 'SIGKILL');
}

// For the tests that run one at a time; the concurrent bad-input tests clean up through their context.
function useTempDir() {
  beforeEach(() => {
    tmp = tempDir('worldos-cmd-');
  });
  afterEach(async () => {
    await sweep(tmp.path);
    tmp.cleanup();
  });
}

/** A two-layer stack with one file in each lower layer; returns its dirs and the -o string. */
function fixture(whiteout: 'aufs' | 'overlay' = 'aufs') {
  const d = stackDirs(tmp.path, 2);
  writeFileSync(join(d.lowers[0]!, 'top.txt'), 'from l0');
  writeFileSync(join(d.lowers[1]!, 'top.txt'), 'from l1');
  writeFileSync(join(d.lowers[1]!, 'bottom.txt'), 'from l1');
  const opts = `lowerdir=${d.lowers.join(':')},upperdir=${d.upper},workdir=${d.work},whiteout=${whiteout}`;
  return { ...d, opts };
}

/** Start `worldfs -f` as a user would (no ready pipe) and wait, bounded, for the mount to appear. */
async function startForeground(opts: string, mnt: string) {
  let stderr = '';
  const proc = spawn(WORLDFS, ['-f', '-o', opts, mnt], { stdio: ['ignore', 'ignore', 'pipe'] });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    proc.once('exit', (code, signal) => res({ code, signal })));
  const up = await waitUntil(() => isMounted(mnt) || proc.exitCode !== null, 20_000);
  expect(up && isMounted(mnt), `worldfs -f did not mount ${mnt}: ${stderr}`).toBe(true);
  return { proc, exited, stderr: () => stderr };
}

/** Serve check: the view shows l0 over l1, and a write lands in the upper layer. */
function expectServing(d: ReturnType<typeof fixture>, name: string) {
  expect(readFileSync(join(d.mnt, 'top.txt'), 'utf8')).toBe('from l0');
  expect(readFileSync(join(d.mnt, 'bottom.txt'), 'utf8')).toBe('from l1');
  writeFileSync(join(d.mnt, name), name);
  expect(readFileSync(join(d.upper, name), 'utf8')).toBe(name);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('worldfs -f (foreground)', () => {
  useTempDir();
  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)('stays up serving the view until %s, then unmounts and exits 0', async (sig) => {
    const d = fixture();
    const fg = await startForeground(d.opts, d.mnt);
    expectServing(d, 'a.txt');
    await sleep(1_500); // longer than the daemon's mount watch interval: it must not leave on its own
    expect(fg.proc.exitCode).toBe(null);
    expectServing(d, 'b.txt');
    fg.proc.kill(sig);
    await waitUntil(() => fg.proc.exitCode !== null || fg.proc.signalCode !== null, 10_000);
    expect(await fg.exited).toEqual({ code: 0, signal: null });
    expect(isMounted(d.mnt)).toBe(false);
    expect(fg.stderr()).toBe('');
    expect(worldfsPids(tmp.path)).toEqual([]);
  });

  it('exits 0 when its mount is removed from outside with umount', async () => {
    const d = fixture();
    const fg = await startForeground(d.opts, d.mnt);
    expectServing(d, 'a.txt');
    execFileSync('umount', [d.mnt]);
    await waitUntil(() => fg.proc.exitCode !== null || fg.proc.signalCode !== null, 10_000);
    expect(await fg.exited).toEqual({ code: 0, signal: null });
    expect(isMounted(d.mnt)).toBe(false);
  });
});

describe('worldfs without -f (daemon)', () => {
  useTempDir();
  it('returns 0 once the mount is ready, keeps serving from a background process, and stops on SIGTERM', async () => {
    const d = fixture('overlay');
    const r = await runBounded(WORLDFS, ['-o', d.opts, d.mnt]);
    expect(r).toMatchObject({ status: 0, timedOut: false, stderr: '' });
    expect(isMounted(d.mnt)).toBe(true); // ready means mounted, at the moment the command returns
    expectServing(d, 'a.txt');
    const pids = worldfsPids(d.mnt);
    expect(pids).toHaveLength(1);
    await sleep(1_500);
    expect(alive(pids[0]!)).toBe(true);
    expectServing(d, 'b.txt');
    process.kill(pids[0]!, 'SIGTERM');
    expect(await waitUntil(() => !alive(pids[0]!), 10_000)).toBe(true);
    expect(isMounted(d.mnt)).toBe(false);
    expect(readFileSync(join(d.upper, 'b.txt'), 'utf8')).toBe('b.txt');
  });

  it.skipIf(process.env.WORLDFS_TRANSPORT === 'native')('with journal=, runs under a keeper: a daemon killed with SIGKILL is replaced on the same mount, and umount ends both', async () => {
    const d = fixture();
    const journal = join(tmp.path, 'nodes');
    const r = await runBounded(WORLDFS, ['-o', `${d.opts},journal=${journal}`, d.mnt]);
    expect(r).toMatchObject({ status: 0, timedOut: false, stderr: '' });
    expectServing(d, 'a.txt');
    const [first] = worldfsPids(d.mnt);
    const keeper = keeperOf(first!);
    expect(keeper, 'a keeper is the daemon\'s parent').toBeDefined();
    process.kill(first!, 'SIGKILL');
    expect(await waitUntil(() => !alive(first!) && worldfsPids(d.mnt).length === 1, 10_000)).toBe(true);
    expectServing(d, 'b.txt'); // the same mount, served by the new daemon
    expect(isMounted(d.mnt)).toBe(true);
    const [second] = worldfsPids(d.mnt);
    expect(second).not.toBe(first);
    execFileSync('umount', [d.mnt]);
    expect(await waitUntil(() => !alive(second!) && !alive(keeper!), 10_000)).toBe(true);
    expect(existsSync(journal), 'the journal goes with the connection').toBe(false);
  });

  it('the daemon exits by itself when its mount is removed with umount', async () => {
    const d = fixture();
    const r = await runBounded(WORLDFS, ['-o', d.opts, d.mnt]);
    expect(r).toMatchObject({ status: 0, timedOut: false });
    const pids = worldfsPids(d.mnt);
    expect(pids).toHaveLength(1);
    expectServing(d, 'a.txt');
    execFileSync('umount', [d.mnt]);
    expect(await waitUntil(() => !alive(pids[0]!), 10_000)).toBe(true);
    expect(isMounted(d.mnt)).toBe(false);
  });
});

describe('mount -t fuse.worldfs', () => {
  useTempDir();
  let installed = false;
  beforeAll(() => {
    let present = true;
    try { lstatSync(MOUNT_HELPER); } catch { present = false; }
    if (!present) {
      symlinkSync(join(ROOT, 'bin', 'mount.fuse.worldfs'), MOUNT_HELPER);
      installed = true;
    }
  });
  afterAll(() => {
    if (installed) unlinkSync(MOUNT_HELPER);
  });

  it.each(['aufs', 'overlay'] as const)('mounts a view (%s whiteouts) through mount(8), and umount stops its daemon', async (whiteout) => {
    const d = fixture(whiteout);
    const r = await runBounded('mount', ['-t', 'fuse.worldfs', 'worldfs', d.mnt, '-o', d.opts]);
    expect(r).toMatchObject({ status: 0, timedOut: false, stderr: '' });
    expect(mountsUnder(d.mnt)).toEqual([{ mnt: d.mnt, fstype: 'fuse.worldfs', source: 'worldfs' }]);
    expectServing(d, 'a.txt');
    const pids = worldfsPids(d.mnt);
    expect(pids).toHaveLength(1);
    const u = await runBounded('umount', [d.mnt]);
    expect(u).toMatchObject({ status: 0, stderr: '' });
    expect(await waitUntil(() => !alive(pids[0]!), 10_000)).toBe(true);
    expect(mountsUnder(d.mnt)).toEqual([]);
  });
});

interface BadCase {
  what: string;
  /** Arguments to worldfs (without -f), built from the fixture dirs. */
  args(d: ReturnType<typeof stackDirs>): string[];
  message: RegExp;
}

const BAD: BadCase[] = [
  { what: 'no lowerdir', args: (d) => ['-o', `upperdir=${d.upper},workdir=${d.work}`, d.mnt], message: /lowerdir/ },
  { what: 'no upperdir', args: (d) => ['-o', `lowerdir=${d.lowers[0]},workdir=${d.work}`, d.mnt], message: /upperdir/ },
  { what: 'no mountpoint', args: (d) => ['-o', `lowerdir=${d.lowers[0]},upperdir=${d.upper},workdir=${d.work}`], message: /mountpoint/i },
  {
    what: 'an unknown option',
    args: (d) => ['-o', `lowerdir=${d.lowers[0]},upperdir=${d.upper},workdir=${d.work},frobnicate=1`, d.mnt],
    message: /unknown option.*frobnicate/,
  },
  { what: 'an unknown flag', args: (d) => ['--frobnicate', '-o', `lowerdir=${d.lowers[0]},upperdir=${d.upper}`, d.mnt], message: /--frobnicate/ },
  {
    what: 'a lowerdir that does not exist',
    args: (d) => ['-o', `lowerdir=${d.lowers[0]}:${d.lowers[0]}-missing,upperdir=${d.upper},workdir=${d.work}`, d.mnt],
    message: /lowerdir .*l0-missing.* does not exist/,
  },
  {
    what: 'an upperdir that does not exist',
    args: (d) => ['-o', `lowerdir=${d.lowers[0]},upperdir=${d.upper}-missing,workdir=${d.work}`, d.mnt],
    message: /upperdir .*upper-missing.* does not exist/,
  },
  {
    what: 'a mountpoint that does not exist',
    args: (d) => ['-o', `lowerdir=${d.lowers[0]},upperdir=${d.upper},workdir=${d.work}`, d.mnt + '-missing'],
    message: /mountpoint .*mnt-missing.* does not exist/,
  },
  {
    what: 'a lowerdir that is a file',
    args: (d) => ['-o', `lowerdir=${join(d.lowers[0]!, 'file')},upperdir=${d.upper},workdir=${d.work}`, d.mnt],
    message: /not a directory/,
  },
  {
    what: 'a mountpoint inside the upperdir',
    args: (d) => ['-o', `lowerdir=${d.lowers[0]},upperdir=${d.upper},workdir=${d.work}`, join(d.upper, 'inside')],
    message: /overlap|own mount/,
  },
  {
    what: 'a workdir inside the mountpoint',
    args: (d) => ['-o', `lowerdir=${d.lowers[0]},upperdir=${d.upper},workdir=${join(d.mnt, 'work')}`, d.mnt],
    message: /overlap|own mount/,
  },
  {
    what: 'a lowerdir inside the mountpoint',
    args: (d) => ['-o', `lowerdir=${join(d.mnt, 'lower')},upperdir=${d.upper},workdir=${d.work}`, d.mnt],
    message: /own mount/,
  },
  {
    what: 'a lowerdir that is the mountpoint',
    args: (d) => ['-o', `lowerdir=${d.mnt},upperdir=${d.upper},workdir=${d.work}`, d.mnt],
    message: /mountpoint/,
  },
  {
    what: 'whiteout=overlay without workdir',
    args: (d) => ['-o', `lowerdir=${d.lowers[0]},upperdir=${d.upper},whiteout=overlay`, d.mnt],
    message: /workdir/,
  },
  {
    what: 'an unknown whiteout format',
    args: (d) => ['-o', `lowerdir=${d.lowers[0]},upperdir=${d.upper},workdir=${d.work},whiteout=zfs`, d.mnt],
    message: /whiteout.*zfs/,
  },
];

/** Usage errors are reported before the mode matters; setup errors are tried in both modes. */
const USAGE_ERRORS = new Set(['no lowerdir', 'no upperdir', 'no mountpoint', 'an unknown option', 'an unknown flag']);
const BAD_RUNS = BAD.flatMap((c) => (USAGE_ERRORS.has(c.what) ? ['daemon'] as const : ['daemon', 'foreground'] as const)
  .map((mode) => ({ ...c, mode })));

describe.concurrent('worldfs refuses bad input', () => {
  it.for(BAD_RUNS)('$what ($mode mode): exits non-zero with a clear message and leaves no mount and no process', async (c, { expect, onTestFinished }) => {
    const t = tempDir('worldos-cmd-bad-');
    onTestFinished(async () => {
      await sweep(t.path);
      t.cleanup();
    });
    const d = stackDirs(t.path, 1);
    writeFileSync(join(d.lowers[0]!, 'file'), 'not a dir');
    mkdirSync(join(d.upper, 'inside'));
    mkdirSync(join(d.mnt, 'work'));
    mkdirSync(join(d.mnt, 'lower'));
    const args = c.args(d);
    const r = await runBounded(WORLDFS, c.mode === 'foreground' ? ['-f', ...args] : args, { timeoutMs: 30_000 });
    expect({ timedOut: r.timedOut, signal: r.signal }).toEqual({ timedOut: false, signal: null });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(c.message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
    expect(r.stdout).toBe('');
    // A failed daemon may take a moment to exit after reporting: bounded wait, then assert.
    await waitUntil(() => worldfsPids(t.path).length === 0, 5_000);
    expect(worldfsPids(t.path)).toEqual([]);
    expect(mountsUnder(t.path)).toEqual([]);
  });
});
