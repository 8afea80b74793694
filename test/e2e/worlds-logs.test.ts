// worldctl logs (issue 15): a detached command's output is kept apart from the daemon's messages,
// moves with its processes when their world is merged (marked), and is followed with -f until the
// world is gone. Real worlds over /, real processes.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweepUnder, waitFor } from '../helpers/procs.js';
import { WORLDCTL, worldctlAt } from '../helpers/worldctl.js';
import { tempDir } from '../helpers/worldfs.js';

let tmp: ReturnType<typeof tempDir>;
let home: string;
const { ctl, ok } = worldctlAt(() => home);

beforeEach(() => {
  tmp = tempDir('worldos-logs-');
  home = join(tmp.path, 'home');
  ok('init', '--base', '/');
});

afterEach(() => {
  const worlds = JSON.parse(ctl('list', '--json').out || '[]') as { name: string; parents: string[] }[];
  for (const w of worlds.filter((x) => x.parents.includes('w0'))) ctl('delete', w.name, '--recursive');
  sweepUnder(tmp.path);
  tmp.cleanup();
});

describe('worldctl logs', () => {
  it('shows what detached commands print, and none of the daemon\'s messages', async () => {
    ok('create', 'W');
    ok('run', 'W', '--detach', '--', 'sh', '-c', 'echo out-line; echo err-line >&2; exec sleep 600');
    await waitFor('the output', () => ok('logs', 'W').includes('err-line'));
    expect(ok('logs', 'W')).toBe('out-line\nerr-line\n');
    // The daemon logs elsewhere: its stats line goes to worldfs.log, never to logs.
    const pid = Number(readFileSync(join(home, 'worlds', 'w1', 'daemon'), 'utf8').split(' ')[0]);
    process.kill(pid, 'SIGUSR2');
    await waitFor('the daemon\'s stats', () => readFileSync(join(home, 'worlds', 'w1', 'worldfs.log'), 'utf8').includes('worldfs: stats'));
    expect(ok('logs', 'W')).toBe('out-line\nerr-line\n');
    expect(ctl('logs', 'Nope').code).toBe(5);
  });

  it('keeps a merged world\'s output under the ancestor, marked, and what its processes print afterwards', async () => {
    ok('create', 'P');
    ok('create', 'C', '--from', 'P');
    ok('run', 'P', '--detach', '--', 'sh', '-c', 'echo from-parent; exec sleep 600');
    ok('run', 'C', '--detach', '--', 'sh', '-c', "trap 'echo after-merge; exit' USR1; echo before-merge; while :; do sleep 0.1; done");
    await waitFor('the child\'s output', () => ok('logs', 'C').includes('before-merge'));
    ok('merge', 'C', '--into', 'P');
    expect(existsSync(join(home, 'worlds', 'w2'))).toBe(false);
    // The shell moved to P with its world: told to go on from there.
    const sh = (JSON.parse(ok('ps', 'P', '--json')) as { pid: number; command: string }[]).find((p) => p.command.includes('trap'))!;
    process.kill(sh.pid, 'SIGUSR1');
    await waitFor('the moved process\'s output', () => ok('logs', 'P').includes('after-merge'));
    const text = ok('logs', 'P');
    expect(text).toMatch(/^from-parent\n==> output of merged world w2 \(\d+-w2\.log\) <==\nbefore-merge\n--- worldctl: world "C" \(w2\) was merged into "P" at [^;]+; the output of its processes continues here ---\nafter-merge\n$/);
  });

  it('follows new output with -f and ends once the world is deleted', async () => {
    ok('create', 'F');
    ok('run', 'F', '--detach', '--', 'sh', '-c', 'echo first; while [ ! -e /go ]; do sleep 0.1; done; echo second; exec sleep 600');
    const follower = spawn(WORLDCTL, ['logs', 'F', '-f'], { env: { ...process.env, WORLDOS_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    follower.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    follower.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    const exited = new Promise<number | null>((resolve) => follower.on('exit', (code) => resolve(code)));
    try {
      await waitFor('the first line', () => out === 'first\n', 30_000);
      ok('run', 'F', '--', 'touch', '/go');
      await waitFor('the second line', () => out === 'first\nsecond\n', 30_000);
      ok('delete', 'F');
      expect(await exited).toBe(0);
      expect(err).toMatch(/world "F" is gone/);
    } finally {
      follower.kill('SIGKILL');
    }
  });
});
