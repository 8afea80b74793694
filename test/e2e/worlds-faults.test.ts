// Faults around a world's processes (issue 4, item 8): the view's daemon killed under a running
// process, the world's init killed, `run` in a world being deleted. Each gives a clear error or the
// documented outcome (docs/processes.md), and nothing is leaked.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { alive, killDaemonForGood, mountsUnder, waitFor as until } from '../helpers/procs.js';
import { storeOverRootEachTest, WORLDCTL } from '../helpers/worldctl.js';

const store = storeOverRootEachTest('worldos-faults-');
const { ctl, ok, ps } = store;
let home = '';
beforeEach(() => { home = store.home(); });
const mountsUnderHome = () => mountsUnder(store.dir()).map((m) => m.mnt);

describe('faults', () => {
  it('the daemon killed under a running process: ls names the processes on the dead view, run and mount refuse naming revive, revive ends them and mounts one view again', async () => {
    ok('create', 'W');
    ok('run', 'W', '--', 'sh', '-c', 'echo kept > /kept-file');
    ok('run', 'W', '--detach', '--', 'sleep', '600');
    const sleeper = ps('W').find((p) => p.command === 'sleep 600')!;
    const [daemonPid] = readFileSync(join(home, 'worlds', 'w1', 'daemon'), 'utf8').split(' ');
    await killDaemonForGood(Number(daemonPid)); // its keeper too, which would start another

    const ls = ok('ls', 'W');
    expect(ls).toMatch(/view: its daemon died; .* answers ENOTCONN; 2 process\(es\) use it: .*\(root\)/);
    expect(ls).toContain(`${sleeper.pid} (root)`);
    expect(ls).toMatch(/worldctl revive W/);
    expect(ls).toContain('sleep 600'); // the process still runs (from memory), listed

    const run = ctl('run', 'W', '--', 'true');
    expect(run.code).toBe(1);
    expect(run.err).toMatch(/worldfs daemon serving world "W" is gone.*ENOTCONN/);
    expect(run.err).toMatch(/worldctl revive W/);
    const mount = ctl('mount', 'W');
    expect(mount.code, 'a second mount would not reach the processes').toBe(4);
    expect(mount.err).toMatch(/died under 2 process\(es\).*worldctl revive W/);
    expect(mountsUnderHome(), 'no mount stacked on the dead one').toHaveLength(1);
    const umount = ctl('umount', 'W');
    expect(umount.code, 'an umount would leave them broken and revive without a place to mount').toBe(4);
    expect(umount.err).toMatch(/died under 2 process\(es\).*worldctl revive W/);
    expect(mountsUnderHome()).toHaveLength(1);
    expect(alive(sleeper.pid), 'a refused run, mount or umount kills nothing').toBe(true);

    const revived = ok('revive', 'W');
    expect(revived).toContain(`ended ${sleeper.pid} (root on the dead view): sleep 600`);
    expect(revived).toMatch(/revived world "W": 1 process\(es\) ended, 0 kept running; view mounted again at /);
    await until('the process to be ended', () => !alive(sleeper.pid));
    expect(mountsUnderHome()).toHaveLength(1);
    expect(ok('ls', 'W')).not.toMatch(/daemon died/);
    expect(ok('run', 'W', '--', 'cat', '/kept-file')).toBe('kept\n');
    const again = ctl('revive', 'W');
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/no dead view.*nothing to revive/);
  });

  it('revive spares what another daemon serves: a merged world\'s process (through its alias view) and the init whose PID namespace holds it', async () => {
    ok('create', 'P');
    ok('run', 'P', '--detach', '--', 'sleep', '600');
    ok('create', 'C', '--from', 'P');
    ok('run', 'C', '--detach', '--', 'sh', '-c', 'echo child > /child-file; exec 3< /child-file; exec sleep 601');
    const own = ps('P').find((p) => p.command === 'sleep 600')!;
    const merged = ps('C').find((p) => p.command === 'sleep 601')!;
    ok('merge', 'C', '--into', 'P');
    const [daemonPid] = readFileSync(join(home, 'worlds', 'w1', 'daemon'), 'utf8').split(' ');
    await killDaemonForGood(Number(daemonPid)); // its keeper too, which would start another

    const ls = ok('ls', 'P');
    expect(ls).toContain(`${own.pid} (root)`);
    expect(ls).not.toContain(`${merged.pid} (`);
    const revived = ok('revive', 'P');
    expect(revived).toContain(`ended ${own.pid} (root on the dead view): sleep 600`);
    expect(revived).not.toContain(`ended ${merged.pid}`);
    expect(revived).toMatch(/its old init kept for them; the next run starts a new one/);
    await until('the process on the dead view to be ended', () => !alive(own.pid));
    expect(alive(merged.pid), 'the merged process, served by its alias daemon, keeps running').toBe(true);
    expect(readFileSync(`/proc/${merged.pid}/fd/3`, 'utf8')).toBe('child\n');
    expect(readFileSync(join(`/proc/${merged.pid}/root`, 'child-file'), 'utf8')).toBe('child\n');
    expect(ok('run', 'P', '--', 'cat', '/child-file')).toBe('child\n');
    expect(ps('P').some((p) => p.pid === merged.pid)).toBe(true);
    ok('stop', 'P');
    await until('stop to end the merged process too', () => !alive(merged.pid));
  });

  it('revive of a parent spares its child world\'s processes, whose init lives in the parent\'s PID namespace', async () => {
    ok('create', 'P');
    ok('run', 'P', '--detach', '--', 'sleep', '600');
    ok('create', 'K', '--from', 'P');
    ok('run', 'K', '--detach', '--', 'sleep', '602');
    const own = ps('P').find((p) => p.command === 'sleep 600')!;
    const child = ps('K').find((p) => p.command === 'sleep 602')!;
    const [daemonPid] = readFileSync(join(home, 'worlds', 'w1', 'daemon'), 'utf8').split(' ');
    await killDaemonForGood(Number(daemonPid)); // its keeper too, which would start another

    const revived = ok('revive', 'P');
    expect(revived).toContain(`ended ${own.pid} (root on the dead view): sleep 600`);
    expect(revived).toMatch(/its old init kept for them; the next run starts a new one/);
    await until('the process on the dead view to be ended', () => !alive(own.pid));
    expect(alive(child.pid), 'the child world\'s process, served by its own daemon, keeps running').toBe(true);
    expect(ps('K').some((p) => p.pid === child.pid)).toBe(true);
    expect(ok('run', 'K', '--', 'echo', 'still here')).toBe('still here\n');
    expect(ok('run', 'P', '--', 'echo', 'back')).toBe('back\n');
  });

  it('umount refuses a view that running processes use, naming stop', () => {
    ok('create', 'U');
    ok('run', 'U', '--detach', '--', 'sleep', '600');
    const r = ctl('umount', 'U');
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/kept \S+: in use by .*pid \d+ \(sleep 600; its root\)/);
    expect(r.err).toMatch(/hint: end those processes \(worldctl stop "U" ends the world's own\)/);
  });

  it('the init killed: the kernel ends every process of the world; ps lists none; the next run starts a new init', async () => {
    ok('create', 'I');
    ok('run', 'I', '--detach', '--', 'sleep', '600');
    const before = ps('I');
    const init = before.find((p) => p.nspid === 1)!;
    const sleeper = before.find((p) => p.command === 'sleep 600')!;
    process.kill(init.pid, 'SIGKILL');
    await until('the world\'s processes to be killed by the kernel', () => !alive(init.pid) && !alive(sleeper.pid));
    expect(ps('I')).toEqual([]);
    expect(ok('run', 'I', '--', 'sh', '-c', 'echo $$; cat /proc/1/cmdline | tr "\\0" " "').split('\n')[1]).toMatch(/worldinit/);
    const again = ps('I');
    expect(again.find((p) => p.nspid === 1)!.pid).not.toBe(init.pid);
    ok('delete', 'I');
    expect(mountsUnderHome()).toEqual([]);
  });

  it('delete gives every process its SIGTERM and the time to act on it (the init outlives them), then removes the world', async () => {
    ok('create', 'G');
    // /dev is the host's inside a world: the handler leaves its mark where the test can see it.
    const mark = `/dev/shm/worldos-term-${process.pid}-${Date.now()}`;
    ok('run', 'G', '--detach', '--', 'sh', '-c', `trap 'sleep 1; echo handled > ${mark}; exit 0' TERM; echo up > ${mark}; while :; do sleep 0.2; done`);
    await until('the process to start', () => existsSync(mark));
    try {
      ok('delete', 'G');
      expect(readFileSync(mark, 'utf8')).toBe('handled\n');
    } finally {
      rmSync(mark, { force: true });
    }
    expect(mountsUnderHome()).toEqual([]);
  });

  it('run in a world being deleted is refused as busy (exit 4) while the delete runs; afterwards the world is gone (exit 5)', async () => {
    ok('create', 'D');
    // Ignores SIGTERM: the delete waits its 5 s grace period before SIGKILL.
    ok('run', 'D', '--detach', '--', 'sh', '-c', "trap '' TERM; while :; do sleep 1; done");
    const del = spawn(WORLDCTL, ['delete', 'D'], { env: { ...process.env, WORLDOS_HOME: home }, stdio: 'ignore' });
    const done = new Promise<number | null>((r) => del.once('exit', (c) => r(c)));
    await until('the delete to mark the world', () => readFileSync(join(home, 'worlds.xml'), 'utf8').includes('state="deleting"'));
    const r = ctl('run', 'D', '--', 'true');
    expect(r.code).toBe(4);
    expect(r.err).toMatch(/being deleted/);
    expect(await done).toBe(0);
    const after = ctl('run', 'D', '--', 'true');
    expect(after.code).toBe(5);
    expect(mountsUnderHome()).toEqual([]);
  });
});
