// `worldctl run` without Node (dist/worldrun, src/ns/worldrun.c): it acts only on a run ticket
// that a run through Node wrote, and only while everything the ticket vouches for still holds;
// otherwise Node answers, as if worldrun were not there. WORLDCTL_FASTPATH=require makes worldrun
// fail (125, saying why) where it would hand over, so each case shows which path was taken. Real
// worlds over /, real processes.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { killDaemonForGood, soon, sweepUnder } from '../helpers/procs.js';
import { WORLDCTL } from '../helpers/worldctl.js';
import { tempDir } from '../helpers/worldfs.js';
import { cgroupHierarchies } from '../../src/ns/cgroup.js';
import { ticketFile } from '../../src/worlds/run-ticket.js';

let tmp: ReturnType<typeof tempDir>;
let home: string;

/** bin/worldctl on this test's store; `path`: WORLDCTL_FASTPATH (unset: worldrun where it can). */
function ctl(args: readonly string[], path?: 'off' | 'require', extra: NodeJS.ProcessEnv = {}) {
  // A variable `extra` sets to undefined is left out (spawn would pass the text "undefined").
  const all = { ...process.env, WORLDOS_HOME: home, ...(path ? { WORLDCTL_FASTPATH: path } : {}), ...extra };
  const env = Object.fromEntries(Object.entries(all).filter(([, v]) => v !== undefined));
  const r = spawnSync(WORLDCTL, args, { env, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status ?? -1, out: r.stdout ?? '', err: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
}

function ok(args: readonly string[], path?: 'off' | 'require', extra: NodeJS.ProcessEnv = {}): string {
  const r = ctl(args, path, extra);
  if (r.code !== 0) throw new Error(`worldctl ${args.join(' ')} exited ${r.code}: ${r.err}`);
  return r.out;
}

beforeEach(() => {
  tmp = tempDir('worldos-fastrun-');
  home = join(tmp.path, 'home');
  ok(['init', '--base', '/']);
  ok(['create', 'W']);
});

afterEach(() => {
  for (const name of ['W', 'X']) ctl(['delete', name]);
  sweepUnder(tmp.path);
  tmp.cleanup();
});

const probe = ['sh', '-c', 'echo "$PATH|$HOME|$TERM|$A|$(pwd)|$(hostname)|$LANG|$LC_CTYPE|$LC_ALL"; ls /proc/self/fd | wc -l'];
/** The caller's locale, which a command in a world gets (as `-e` may replace any of it). */
const LOCALE = { LANG: 'C.UTF-8', LC_CTYPE: 'C.UTF-8', LC_ALL: undefined };

describe('worldctl run without Node', () => {
  it('runs nothing before Node has run a command in the world (no ticket)', () => {
    const r = ctl(['run', 'W', '--', 'true'], 'require');
    expect(r.code).toBe(125);
    expect(r.err).toMatch(/no run ticket/);
  });

  it('gives a command what Node gives it: environment, directory, hostname, descriptors, exit status', () => {
    const viaNode = ok(['run', '--cwd', '/etc', '-e', 'A=1', '-e', 'HOME=/x', '-e', 'LC_CTYPE=C', 'W', '--', ...probe], 'off', LOCALE);
    const native = ok(['run', '--cwd', '/etc', '-e', 'A=1', '-e', 'HOME=/x', '-e', 'LC_CTYPE=C', 'W', '--', ...probe], 'require', LOCALE);
    expect(native.split('\n')[0]).toBe(viaNode.split('\n')[0]);
    expect(native).toMatch(/^\/usr\/local\/sbin:[^|]*\|\/x\|[^|]*\|1\|\/etc\|W\|C\.UTF-8\|C\|\n/);
    // stdin, stdout, stderr and ls's own directory: neither the relay pipe, nor the shim, nor any
    // descriptor worldctl's caller left open is handed on (Node's spawn hands on the caller's).
    expect(native.split('\n')[1]).toBe('4');
    // Nor through Node, whose spawn hands on what its caller left open (the shim closes it).
    const extra = openSync('/etc/hostname', 'r');
    try {
      for (const path of ['off', 'require'] as const) {
        const r = spawnSync(WORLDCTL, ['run', 'W', '--', 'sh', '-c', 'ls /proc/self/fd | wc -l'], {
          env: { ...process.env, WORLDOS_HOME: home, WORLDCTL_FASTPATH: path }, encoding: 'utf8', timeout: 60_000,
          stdio: ['ignore', 'pipe', 'pipe', extra, extra, extra],
        });
        expect([path, r.status, r.stdout.trim()]).toEqual([path, 0, '4']);
      }
    } finally {
      closeSync(extra);
    }
    expect(ok(['--home', home, 'run', 'W', 'echo', 'no', 'dashes'], 'require')).toBe('no dashes\n');
    expect(ctl(['run', 'W', '--', 'sh', '-c', 'exit 7'], 'require').code).toBe(7);
    expect(ctl(['run', 'W', '--', 'sh', '-c', 'kill -TERM $$'], 'require').code).toBe(143);
    expect(ctl(['run', 'W', '--', 'no-such-command'], 'require')).toMatchObject({ code: 127, err: expect.stringMatching(/world "W".*no-such-command/) });
    // A file it writes is in the world's layer, as through Node.
    ok(['run', 'W', '--', 'sh', '-c', 'echo made-natively > /root/fast-run-probe'], 'require');
    expect(existsSync('/root/fast-run-probe')).toBe(false);
    expect(ok(['ls', 'W'])).toMatch(/A \/root\/fast-run-probe/);
  });

  it.skipIf(cgroupHierarchies({}).length === 0)('puts the command in the world\'s cgroup as Node does, in each hierarchy (born there in v2, moved there in v1)', () => {
    for (const [world, version] of [['W', 'v2'], ['X', 'v1']] as const) {
      const env = { WORLDOS_CGROUP: version };
      if (!cgroupHierarchies(env).length) continue;
      if (world === 'X') ok(['create', 'X']);
      const viaNode = ok(['run', world, '--', 'cat', '/proc/self/cgroup'], 'off', env);
      const native = ok(['run', world, '--', 'cat', '/proc/self/cgroup'], 'require', env);
      expect(native).toBe(viaNode);
      const dir = cgroupHierarchies(env)[0]!.worldsDir;
      const line = version === 'v2' ? /^0::(.*)$/m : /^\d+:freezer:(.*)$/m;
      expect(join(dir, '..', native.match(line)![1]!)).toMatch(new RegExp(`^${dir}/[0-9a-f]+-w\\d+$`));
    }
  });

  it('hands to Node what it does not parse, and Node answers as always', () => {
    ok(['run', 'W', '--', 'true'], 'off');
    expect(ctl(['run', 'W'], 'require').err).toMatch(/fast path refused/);
    const r = ctl(['run', 'W']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/missing required argument 'command'/);
    expect(ctl(['run', '--detach', 'W', '--', 'true'], 'require').err).toMatch(/an option the fast path does not take/);
    expect(ctl(['run', 'Nope', '--', 'true']).err).toMatch(/Nope/);
  });

  it('stops vouching once the registry changes, until Node runs a command again', () => {
    ok(['run', 'W', '--', 'true'], 'off');
    ok(['run', 'W', '--', 'true'], 'require');
    ok(['create', 'X']);
    expect(ctl(['run', 'W', '--', 'true'], 'require').err).toMatch(/registry changed/);
    ok(['run', 'W', '--', 'true']); // through Node, which writes a new ticket
    ok(['run', 'W', '--', 'true'], 'require');
  });

  it('stops vouching once the world stopped, and Node starts it again', () => {
    ok(['run', 'W', '--', 'true'], 'off');
    ok(['stop', 'W']);
    expect(ctl(['run', 'W', '--', 'true'], 'require').err).toMatch(/init is not the ticket's/);
    expect(ok(['run', 'W', '--', 'echo', 'again'])).toBe('again\n');
    ok(['run', 'W', '--', 'true'], 'require');
  });

  it('never runs a command on a dead view: after its daemon is killed (its keeper too), Node gives the advice', async () => {
    ok(['run', 'W', '--', 'true'], 'off');
    const id = 'w1';
    const daemon = Number(readFileSync(join(home, 'worlds', id, 'daemon'), 'utf8').split(' ')[0]);
    await killDaemonForGood(daemon);
    expect(ctl(['run', 'W', '--', 'true'], 'require').err).toMatch(/daemon is not the ticket's/);
    const r = ctl(['run', 'W', '--', 'true']);
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/worldctl revive/);
    ok(['revive', 'W']);
  });

  it('starts the command only once the daemon\'s fence passed, and never after a signal that came first', async () => {
    ok(['run', 'W', '--', 'true'], 'off');
    const fences = join(home, 'worlds', 'w1', 'fence');
    const daemon = Number(readFileSync(join(home, 'worlds', 'w1', 'daemon'), 'utf8').split(' ')[0]);
    // A stopped daemon removes no fence file: worldrun waits on it (5 s at most) while nsenter starts.
    process.kill(daemon, 'SIGSTOP');
    try {
      const r = spawn(WORLDCTL, ['run', 'W', '--', 'sh', '-c', 'echo ran > /root/gate-probe'], {
        env: { ...process.env, WORLDOS_HOME: home, WORLDCTL_FASTPATH: 'require' }, stdio: 'ignore',
      });
      const exited = new Promise<[number | null, string | null]>((resolve) => r.on('exit', (code, sig) => resolve([code, sig])));
      // The fence file is made with worldrun's signals held: from then on a signal reaches its wait.
      expect(await soon(() => readdirSync(fences).length > 0)).toBe(true);
      r.kill('SIGTERM');
      process.kill(daemon, 'SIGCONT');
      expect(await exited).toEqual([143, null]);
    } finally {
      process.kill(daemon, 'SIGCONT');
    }
    expect(readdirSync(fences)).toEqual([]);
    expect(ctl(['run', 'W', '--', 'cat', '/root/gate-probe'], 'require').code).not.toBe(0);
    expect(ok(['ls', 'W'])).not.toMatch(/gate-probe/);
    // And the gate opens once the fence passed: the same command, the daemon running.
    ok(['run', 'W', '--', 'sh', '-c', 'echo ran > /root/gate-probe'], 'require');
    expect(ok(['run', 'W', '--', 'cat', '/root/gate-probe'], 'require')).toBe('ran\n');
  });

  it('leaves no ticket behind a deleted world', () => {
    ok(['run', 'W', '--', 'true'], 'off');
    expect(existsSync(ticketFile(home, 'W'))).toBe(true);
    ok(['delete', 'W']);
    expect(existsSync(ticketFile(home, 'W'))).toBe(false);
    expect(ctl(['run', 'W', '--', 'true']).err).toMatch(/W/);
  });
});
