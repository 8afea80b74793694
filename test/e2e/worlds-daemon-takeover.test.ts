// A world survives its daemon (issue 13, item 5; docs/processes.md, "When a daemon dies"): as root,
// a keeper (dist/worldkeep) holds the view's FUSE connection, so a daemon killed with SIGKILL leaves
// the mount waiting, not dead; the keeper starts a new daemon on the same connection, which restores
// the node table from its journal and has the kernel resend what the dead one had read. Processes
// in the world never see an error. A keeper that sees its daemon die again and again gives up, and
// the view is then dead as it was without one (revive). Stopping leaves no keeper and no journal.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { alive, daemonOf, keeperOf, waitFor as until } from '../helpers/procs.js';
import { storeOverRootEachTest, WORLDCTL, worldDaemonStats } from '../helpers/worldctl.js';

const { home: storeHome, ok, ps } = storeOverRootEachTest('worldos-takeover-');
let home = '';
beforeEach(() => { home = storeHome(); });

const recorded = (id: string) => Number(readFileSync(join(home, 'worlds', id, 'daemon'), 'utf8').split(' ')[0]);
const layer = (id: string) => join(home, 'worlds', id, 'layer');
const journal = (id: string) => join(home, 'stacks', `${id}.nodes`);

describe('a world survives its daemon', () => {
  it('the daemon killed alone: a new one serves the same mount, the running process never notices, and ls, run and ps go on', async () => {
    ok('create', 'W');
    ok('run', 'W', '--', 'sh', '-c', 'echo kept > /kept-file');
    // Its root, its cwd and an open file are on the view; it reads and writes through it all the time.
    ok('run', 'W', '--detach', '--', 'sh', '-c',
      'cd /usr/share; exec 3< /kept-file; while :; do cat /kept-file <&3 > /dev/null && ls doc > /dev/null && echo t >> /ticks || echo FAILED >> /ticks; sleep 0.05; done');
    const ticks = () => (existsSync(join(layer('w1'), 'ticks')) ? readFileSync(join(layer('w1'), 'ticks'), 'utf8').split('\n').filter(Boolean) : []);
    await until('the loop to tick', () => ticks().length > 3);
    const loop = ps('W').find((p) => p.command.startsWith('sh -c cd /usr/share'))!;
    expect(loop).toBeDefined();

    const daemon = recorded('w1');
    const keeper = keeperOf(daemon);
    expect(keeper, 'as root, a keeper runs the daemon').toBeDefined();
    expect(existsSync(journal('w1')), 'the daemon journals its node table').toBe(true);
    process.kill(daemon, 'SIGKILL');
    await until('the daemon to die', () => !alive(daemon));
    const before = ticks().length;
    await until('the loop to go on through a new daemon', () => ticks().length > before + 10, 20_000);
    expect(ticks()).not.toContain('FAILED');

    expect(ok('ls', 'W')).not.toMatch(/died|ENOTCONN/);
    const next = recorded('w1');
    expect(next, 'ls followed the record to the new daemon').not.toBe(daemon);
    expect(alive(next)).toBe(true);
    expect(keeperOf(next)).toBe(keeper);
    expect(ok('run', 'W', '--', 'cat', '/kept-file')).toBe('kept\n');
    expect(ps('W').map((p) => p.pid)).toContain(loop.pid);
    expect(readFileSync(join(home, 'worlds', 'w1', 'worldfs.log'), 'utf8')).toMatch(/worldkeep: the daemon \(pid \d+\) died of signal 9[^]*took over the connection of .* nodes restored/);

    ok('stop', 'W');
    await until('the keeper to follow its daemon', () => !alive(keeper!) && !alive(next));
    expect(existsSync(journal('w1')), 'a connection that ended leaves no journal').toBe(false);
  });

  it('a request the dead daemon had read is answered by the new one: a write waiting on a big copy-up completes', async () => {
    ok('create', 'P');
    // 96 MiB in P's own layer: the child's first write to it waits on a staged copy-up.
    const chunk = Buffer.alloc(1 << 20, 'x');
    const big = join(layer('w1'), 'big');
    writeFileSync(big, '');
    for (let i = 0; i < 96; i++) writeFileSync(big, chunk, { flag: 'a' });
    ok('create', 'C', '--from', 'P');
    ok('run', 'C', '--', 'true');
    const daemon = recorded('w2');
    const writer = spawn(WORLDCTL, ['run', 'C', '--', 'sh', '-c', 'echo appended >> /big && tail -c 9 /big'], { env: { ...process.env, WORLDOS_HOME: home } });
    let out = '';
    writer.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    const done = new Promise<number | null>((resolve) => writer.on('exit', resolve));
    // Killed while it copies (or, on a fast machine, just after: the write must then stand as well).
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && ((await worldDaemonStats(home, 'w2')).staged ?? 0) < 1) await new Promise((r) => setTimeout(r, 20));
    process.kill(daemon, 'SIGKILL');
    expect(await done).toBe(0);
    expect(out).toBe('appended\n');
    expect(statSync(join(layer('w2'), 'big')).size).toBe(96 * (1 << 20) + 9);
    expect(statSync(big).size, 'the parent\'s copy is untouched').toBe(96 * (1 << 20));
  });

  it('a keeper whose daemon dies again and again gives up: the view is then dead, as without one, and revive mounts it again', async () => {
    ok('create', 'W');
    ok('run', 'W', '--detach', '--', 'sleep', '600');
    // Running (exec'd through the view) before the kills: one still to start would meet the dead view.
    await until('sleep to run', () => ps('W').some((p) => p.command === 'sleep 600'));
    const keeper = keeperOf(recorded('w1'))!;
    expect(keeper).toBeDefined();
    for (let i = 0; i < 6; i++) {
      let d: number | undefined;
      await until(`daemon ${i + 1} to start`, () => (d = daemonOf(keeper)) !== undefined || !alive(keeper), 20_000);
      if (d === undefined) break;
      process.kill(d, 'SIGKILL');
      await until(`daemon ${i + 1} to die`, () => !alive(d!));
    }
    await until('the keeper to give up', () => !alive(keeper), 20_000);
    expect(readFileSync(join(home, 'worlds', 'w1', 'worldfs.log'), 'utf8')).toMatch(/worldkeep: the daemon died 6 times within 60 s; giving up/);
    const ls = ok('ls', 'W');
    expect(ls).toMatch(/view: its daemon died; .* answers ENOTCONN/);
    const revived = ok('revive', 'W');
    expect(revived, ls).toMatch(/revived world "W": 1 process\(es\) ended/);
    expect(ok('run', 'W', '--', 'echo', 'back')).toBe('back\n');
  });

  it('a merged world\'s alias daemon killed: a new one serves the merged process, and stop ends it all', async () => {
    ok('create', 'P');
    ok('create', 'C', '--from', 'P');
    ok('run', 'C', '--detach', '--', 'sh', '-c', 'echo child > /child-file; exec sleep 601');
    const merged = ps('C').find((p) => p.command === 'sleep 601')!;
    const alias = recorded('w2');
    ok('merge', 'C', '--into', 'P');
    const keeper = keeperOf(alias)!;
    expect(keeper).toBeDefined();
    process.kill(alias, 'SIGKILL');
    await until('a new alias daemon', () => { const d = daemonOf(keeper); return d !== undefined && d !== alias; }, 20_000);
    expect(ps('P').map((p) => p.pid)).toContain(merged.pid);
    expect(readFileSync(`/proc/${merged.pid}/root/child-file`, 'utf8')).toBe('child\n');
    ok('stop', 'P');
    await until('the alias keeper to go', () => !alive(keeper) && !alive(merged.pid));
  });
});
