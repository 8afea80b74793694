// worldctl's surface on running worlds (issue 15): `shell` (the login shell of the world's own
// /etc/passwd, on top of run), `ps --all`, process counts in `list`, and what `merge --json`
// reports it moved. Real namespaces and views over the host's root, as worlds-processes does.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweepUnder } from '../helpers/procs.js';
import { listRecursive, removeStoreCgroups, WORLDCTL, worldctlAt } from '../helpers/worldctl.js';
import { tempDir } from '../helpers/worldfs.js';

let tmp: ReturnType<typeof tempDir>;
let home: string;

const { ctl, ok } = worldctlAt(() => home);
/** worldctl shell NAME with `input` on stdin (bounded: a hang detector, not a speed check). */
function shell(name: string, input: string, ...extra: string[]) {
  const r = spawnSync(WORLDCTL, ['shell', name, ...extra], { env: { ...process.env, WORLDOS_HOME: home }, input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeEach(() => {
  tmp = tempDir('worldos-surface-');
  home = join(tmp.path, 'home');
  ok('init', '--base', '/');
});

afterEach(() => {
  const worlds = JSON.parse(ctl('list', '--json').out || '[]') as { name: string; parents: string[]; base?: boolean }[];
  for (const w of worlds.filter((x) => !x.base && x.parents.includes('w0'))) ctl('delete', w.name, '--recursive');
  sweepUnder(tmp.path);
  removeStoreCgroups(home);
  tmp.cleanup();
});

describe('worldctl shell', () => {
  it('starts the login shell the world\'s /etc/passwd gives root, in its home, and returns its exit code', () => {
    ok('create', 'Box');
    ok('run', 'Box', '--', 'sh', '-c', 'sed -i "s#^root:[^:]*:0:0:[^:]*:[^:]*:.*#root:x:0:0:root:/root:/bin/bash#" /etc/passwd');
    const r = shell('Box', 'echo "$0|$HOME|$SHELL|$USER|$(pwd)|$GREETING"; shopt -q login_shell && echo login; exit 3\n', '-e', 'GREETING=hi');
    expect(r.err).toBe('');
    expect(r.out).toBe('/bin/bash|/root|/bin/bash|root|/root|hi\nlogin\n');
    expect(r.code).toBe(3);
  });

  it('falls back to /bin/sh, saying why, when that shell is not in the world', () => {
    ok('create', 'Box');
    ok('run', 'Box', '--', 'sh', '-c', 'sed -i "s#^root:.*#root:x:0:0:root:/nohome:/bin/no-such-shell#" /etc/passwd');
    const r = shell('Box', 'echo "$0|$HOME|$(pwd)"\n');
    expect(r.err).toBe('worldctl shell: /bin/no-such-shell (the login shell in /etc/passwd) is not in this world; starting /bin/sh\n');
    expect(r.out).toBe('/bin/sh|/nohome|/\n');
    expect(r.code).toBe(0);
  });
});

describe('processes across worlds', () => {
  it('ps --all shows every world\'s processes with a WORLD column, list counts them, merge --json counts what it moved', () => {
    ok('create', 'P');
    ok('create', 'C', '--from', 'P');
    ok('run', 'C', '--', 'sh', '-c', 'mkdir -p /opt/surface; echo 1 > /opt/surface/f1; echo 2 > /f2');
    ok('run', 'C', '--detach', '--', 'sleep', '600');
    const before = JSON.parse(ok('ps', 'C', '--json')) as { pid: number; command: string }[];
    expect(before.map((p) => p.command)).toContain('sleep 600');

    const all = ok('ps', '--all').trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
    expect(all[0]).toEqual(['WORLD', 'HOST PID', 'PID', 'STATE', 'COMMAND']);
    expect(all.filter((r) => r[0] === 'C').map((r) => Number(r[1])).sort()).toEqual(before.map((p) => p.pid).sort());
    const counts = JSON.parse(ok('list', '--json')) as { name: string; processes: number }[];
    expect(counts.find((w) => w.name === 'C')!.processes).toBe(before.length);

    const layerPaths = listRecursive(join(home, 'worlds', 'w2', 'layer')).length;
    const merged = JSON.parse(ok('merge', 'C', '--into', 'P', '--json')) as Record<string, unknown>;
    expect(merged).toEqual({ merged: ['C'], into: 'P', files: layerPaths, processes: before.length, conflicts: [], policy: 'fail', reparented: [] });
    const after = ok('ps', '--all').trimEnd().split('\n').slice(1).map((l) => l.split(/\s{2,}/));
    const sleep = before.find((p) => p.command === 'sleep 600')!.pid;
    expect(after.find((r) => Number(r[1]) === sleep)?.[0]).toBe('P');
  });
});
