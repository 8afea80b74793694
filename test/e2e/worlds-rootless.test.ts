// Rootless worlds: an unprivileged user made by the test runs the paper's scenario — create, run
// (user namespace mapping it to root, PID/mount/UTS/IPC namespaces), ls/ps, merge of files and
// processes (membership by PID namespace: no cgroup can be delegated here), delete — and leaves
// nothing behind. Also: a /dev/fuse the user cannot open is refused with the fix named.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paperScenario, type ScenarioOutcome } from '../../cli/scenario.js';
import { alive } from '../helpers/procs.js';
import { UnprivilegedUser } from '../helpers/unprivileged.js';

describe('worlds as an unprivileged user', () => {
  let user: UnprivilegedUser;
  beforeAll(async () => { user = await UnprivilegedUser.make(); });
  afterAll(async () => { await user?.cleanup(); });

  const env = () => ({ WORLDOS_HOME: `${user.home}/store` });
  const worldctl = (args: readonly string[], input?: string) => {
    const r = user.run([`${user.repo}/bin/worldctl`, ...args], { input, env: env() });
    if (r.status !== 0) throw new Error(`worldctl ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };

  let o: ScenarioOutcome;
  const log: string[] = [];

  it('runs the scenario: servers in worlds over TCP, delete on failure, merge of files and processes on success', async () => {
    o = await paperScenario({ worldctl, say: (l) => { log.push(l); } });
    expect(o.parentServer).toBe('220 mail.example v1 (server v1)');
    expect(o.child3Server).toBe('220 mail.example v2 (server v2, patched)');
    expect(o.child3AfterDelete).toBe('(ECONNREFUSED)');
    expect(o.parentAfterDelete).toBe(o.parentServer);
    expect(o.serversAfterMerge).toHaveLength(2);
    expect(o.serversAfterMerge.map((p) => p.nspid)).toContain(o.oldServerPid);
    expect(o.oldAfterStop).toBe('(ECONNREFUSED)');
    expect(o.newAfterStop).toBe('220 mail.example v2 (server v2, patched)');
  });

  it('the worlds ran in a user namespace as root of it, with the user\'s own uid outside', () => {
    const inside = worldctl(['run', 'Parent', '--', 'sh', '-c', 'id -u; cat /proc/self/uid_map']).trim().split('\n');
    expect(inside[0]).toBe('0');
    expect(inside[1]!.trim().split(/\s+/)).toEqual(['0', String(user.uid), '1']);
    // The server process (host view) belongs to the user, not to root.
    for (const p of o.serversAfterMerge.filter((s) => s.nspid !== o.oldServerPid)) {
      const status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
      expect(/^Uid:\s+(\d+)/m.exec(status)![1]).toBe(String(user.uid));
    }
    // The files the worlds wrote are the user's.
    expect(worldctl(['run', 'Parent', '--', 'stat', '-c', '%u', '/srv/mail/server.js']).trim()).toBe('0');
  });

  it('delete leaves no mount and no process of the user', async () => {
    worldctl(['delete', 'Parent', '--recursive']);
    expect(user.mounts()).toEqual([]);
    await expect.poll(() => user.processes().filter(alive), { timeout: 10_000 }).toEqual([]);
  });
});

describe('an unprivileged user without a usable /dev/fuse', () => {
  let user: UnprivilegedUser;
  beforeAll(async () => { user = await UnprivilegedUser.make({ fuse: false }); });
  afterAll(async () => { await user?.cleanup(); });

  it('is told why and how to fix it (exit non-zero), and nothing is mounted or left running', () => {
    const env = { WORLDOS_HOME: `${user.home}/store` };
    const ctl = (...args: string[]) => user.run([`${user.repo}/bin/worldctl`, ...args], { env });
    expect(ctl('init', '--base', '/').status).toBe(0);
    expect(ctl('create', 'w').status).toBe(0);
    const r = ctl('run', 'w', '--', 'true');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/\/dev\/fuse is mode 0600 and not usable by uid \d+/);
    expect(r.stderr).toMatch(/chmod 0666 \/dev\/fuse/);
    expect(user.mounts()).toEqual([]);
    // The store is intact: the world is still there and can be deleted.
    expect(ctl('list').stdout).toMatch(/\bw\b/);
    expect(ctl('delete', 'w').status).toBe(0);
  });
});
