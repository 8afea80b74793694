// One world, one daemon, one view, one init, whatever runs at once (issue 13 point 4): concurrent
// first `run`s of a new world, and concurrent `mount`s, as separate worldctl processes.
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cmdline, sweepUnder } from '../helpers/procs.js';
import { isWorldfsScript } from '../../src/worlds/daemon.js';
import { WORLDCTL, worldctlAt } from '../helpers/worldctl.js';
import { tempDir } from '../helpers/worldfs.js';

let tmp: ReturnType<typeof tempDir>;
let home: string;
const { ctl } = worldctlAt(() => home);

/** `n` worldctl processes started together; resolves with their exit codes. */
function together(n: number, args: readonly string[]): Promise<number[]> {
  return Promise.all(Array.from({ length: n }, () => new Promise<number>((resolve) => {
    const p = spawn(WORLDCTL, args, { env: { ...process.env, WORLDOS_HOME: home }, stdio: 'ignore' });
    p.on('exit', (code) => resolve(code ?? -1));
  })));
}

/** Live processes whose command line contains `text` (daemons name their mountpoint, inits their world). */
function processesWith(text: string): number[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number)
    .filter((pid) => (cmdline(pid) ?? []).join(' ').includes(text));
}

/** FUSE mounts at `mountpoint` in this namespace. */
const mountsAt = (mountpoint: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
  .filter((l) => l.split(' ')[4] === mountpoint).length;

const idOf = (name: string) => (JSON.parse(ctl('list', '--json').out) as { id: string; name: string }[]).find((w) => w.name === name)!.id;

beforeEach(() => {
  tmp = tempDir('worldos-races-');
  home = join(tmp.path, 'home');
  expect(ctl('init', '--base', '/').code).toBe(0);
});

afterEach(() => {
  for (const w of ['r', 'm']) ctl('delete', w);
  sweepUnder(tmp.path);
  rmSync(tmp.path, { recursive: true, force: true });
});

describe('a world started by several commands at once', () => {
  it('gets one daemon, one view and one init from concurrent first runs, and every run succeeds', async () => {
    expect(ctl('create', 'r').code).toBe(0);
    const codes = await together(4, ['run', 'r', '--', 'true']);
    expect(codes).toEqual([0, 0, 0, 0]);
    const mnt = join(home, 'mnt', idOf('r'));
    expect(processesWith(' -f -o ').filter((pid) => (cmdline(pid) ?? []).some(isWorldfsScript) && cmdline(pid)!.includes(mnt))).toHaveLength(1);
    expect(mountsAt(mnt)).toBe(1);
    // The init itself, not the `unshare ... -- worldinit` launcher that waits for it.
    expect(processesWith(`worldinit ${mnt} r`).filter((pid) => cmdline(pid)![0]!.endsWith('/worldinit'))).toHaveLength(1);
  });

  it('mounts once when mounted concurrently: one mount succeeds, the others are told it is busy (exit 4)', async () => {
    expect(ctl('create', 'm').code).toBe(0);
    const codes = await together(3, ['mount', 'm']);
    expect([...codes].sort()).toEqual([0, 4, 4]);
    expect(mountsAt(join(home, 'mnt', idOf('m')))).toBe(1);
    expect(ctl('umount', 'm').code).toBe(0);
  });
});
