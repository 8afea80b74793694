// Worlds as containers (issue 4): run, ps, delete and merge with real namespaces, cgroups and
// views. Each test has its own store; afterEach deletes every world (stopping processes and
// daemons) and then sweeps any mount, process or cgroup left under the test's directory.
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alive, sweepUnder, waitFor as until } from '../helpers/procs.js';
import { removeStoreCgroups, spawnWorldctl, worldCgroupDir } from '../helpers/worldctl.js';
import { tempDir } from '../helpers/worldfs.js';

let tmp: ReturnType<typeof tempDir>;
let home: string;

const ctl = (...args: string[]) => spawnWorldctl(home, args);

function ok(...args: string[]): string {
  const r = ctl(...args);
  expect(r.err, `worldctl ${args.join(' ')}`).toBe('');
  expect(r.code, `worldctl ${args.join(' ')}: ${r.err}`).toBe(0);
  return r.out;
}

interface Ps { pid: number; nspid: number; command: string; state: string }
const ps = (w: string) => JSON.parse(ok('ps', w, '--json')) as Ps[];

beforeEach(() => {
  tmp = tempDir('worldos-proc-');
  home = join(tmp.path, 'home');
  ok('init', '--base', '/');
});

afterEach(() => {
  const worlds = JSON.parse(ctl('list', '--json').out || '[]') as { name: string; parents: string[]; base?: boolean }[];
  for (const w of worlds.filter((x) => !x.base && x.parents.includes('w0'))) ctl('delete', w.name, '--recursive');
  sweepUnder(tmp.path); // safety net: nothing of this test may survive it
  removeStoreCgroups(home);
  rmSync(tmp.path, { recursive: true, force: true });
});

describe('worlds as containers', () => {
  it('runs a command as a namespaced container: its own hostname, PID 1 is the world init, the exit code comes back', () => {
    ok('create', 'Box');
    const r = ctl('run', 'Box', '--', 'sh', '-c', 'hostname; cat /proc/1/cmdline | tr "\\0" " "; echo; echo $$; exit 7');
    expect(r.code).toBe(7);
    const [host, init, pid] = r.out.trim().split('\n');
    expect(host).toBe('Box');
    expect(init).toContain('worldinit');
    expect(Number(pid)).toBeGreaterThan(1);
    expect(ctl('run', 'Box', '--', 'this-command-does-not-exist').code).toBe(127);
    expect(ctl('run', 'Nope', '--', 'true').code).toBe(5);
  });

  it('keeps detached processes running, lists them with host and world pids, and writes only to the world', () => {
    ok('create', 'Srv');
    ok('run', 'Srv', '--detach', '--', 'sh', '-c', 'echo started > /tmp/worldos-proc-marker; exec sleep 600');
    const list = ps('Srv');
    const sleeper = list.find((p) => p.command === 'sleep 600');
    expect(sleeper, JSON.stringify(list)).toBeDefined();
    expect(alive(sleeper!.pid)).toBe(true);
    expect(list.find((p) => p.nspid === 1)?.command).toContain('worldinit');
    expect(existsSync('/tmp/worldos-proc-marker')).toBe(false); // the host's /tmp is untouched
    const ls = JSON.parse(ok('ls', 'Srv', '--json')) as { changes: { path: string }[]; processes: Ps[] };
    expect(ls.changes.map((c) => c.path)).toContain('/tmp/worldos-proc-marker');
    expect(ls.processes.map((p) => p.pid)).toContain(sleeper!.pid);
  });

  it('nests a child world\'s PID namespace in its parent\'s: the parent sees the child\'s processes', () => {
    ok('create', 'P');
    ok('run', 'P', '--detach', '--', 'sleep', '600');
    ok('create', 'C', '--from', 'P');
    ok('run', 'C', '--detach', '--', 'sleep', '601');
    const r = ctl('run', 'P', '--', 'ps', '-eo', 'args');
    expect(r.out).toContain('sleep 601');
    expect(ctl('run', 'C', '--', 'ps', '-eo', 'args').out).not.toContain('sleep 600');
  });

  it('delete stops every process (SIGKILL after the grace period for one that ignores SIGTERM), the view and the cgroup', async () => {
    ok('create', 'D');
    ok('run', 'D', '--detach', '--', 'sh', '-c', "trap '' TERM; while :; do sleep 1; done");
    const pids = ps('D').map((p) => p.pid);
    expect(pids.length).toBeGreaterThan(1);
    if (process.env.WORLDOS_MEMBERSHIP !== 'pidns') expect(existsSync(worldCgroupDir(home, 'w1')!)).toBe(true);
    ok('delete', 'D');
    await until('the processes to exit', () => pids.every((p) => !alive(p)));
    expect(readFileSync('/proc/self/mountinfo', 'utf8')).not.toContain(home);
    if (worldCgroupDir(home, 'w1') !== undefined) expect(existsSync(worldCgroupDir(home, 'w1')!)).toBe(false);
  });

  it('merge moves the child\'s processes into the ancestor: listed there, seeing its files, open files intact', async () => {
    ok('create', 'Parent');
    ok('run', 'Parent', '--', 'sh', '-c', 'echo parent > /srv-parent-file');
    ok('create', 'Child', '--from', 'Parent');
    ok('run', 'Child', '--detach', '--', 'sh', '-c', 'echo child > /child-file; exec 3< /child-file; exec sleep 600');
    const before = ps('Child').find((p) => p.command === 'sleep 600')!;
    expect(before).toBeDefined();
    ok('merge', 'Child', '--into', 'Parent');
    const after = ps('Parent').find((p) => p.pid === before.pid);
    expect(after, 'the child process is now listed as Parent\'s').toBeDefined();
    expect(alive(before.pid)).toBe(true);
    // Through the child's old root (now an alias of Parent's view) it sees Parent's files...
    const root = `/proc/${before.pid}/root`;
    expect(readFileSync(join(root, 'srv-parent-file'), 'utf8')).toBe('parent\n');
    // ...and a file Parent creates afterwards; its open file still reads.
    ok('run', 'Parent', '--', 'sh', '-c', 'echo later > /later');
    expect(readFileSync(join(root, 'later'), 'utf8')).toBe('later\n');
    expect(readFileSync(`/proc/${before.pid}/fd/3`, 'utf8')).toBe('child\n');
    ok('delete', 'Parent');
    await until('the moved process to be stopped with Parent', () => !alive(before.pid));
  });
});
