// cgroup membership on this machine's real hierarchies (v2 and the v1 freezer, each where it is
// writable): a process that joins is listed, freezing stops it, a merge's adopt moves it with the
// world, release removes the cgroup; and a world whose cgroup sits in another hierarchy than the
// one new members join (started before an upgrade) is still found and adopted.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cgroupHierarchies, type CgroupHierarchy } from '../../src/ns/cgroup.js';
import { CgroupMembership } from '../../src/ns/membership.js';

const STORE = `test${process.pid}`;
const children: ChildProcess[] = [];
const made: { m: CgroupMembership; ids: string[] }[] = [];

afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const { m, ids } of made.splice(0)) {
    for (const id of ids) { m.thaw(id); }
  }
  // The killed members exit; then their cgroups can go.
  return new Promise<void>((resolve) => setTimeout(() => {
    for (const h of cgroupHierarchies({})) for (const id of ['a', 'b']) h.cgroup(`${STORE}-${id}`).remove();
    resolve();
  }, 50));
});

/** A shell that joins `procs` and then counts, one line a 10 ms, into its stdout. */
function member(procs: string): { child: ChildProcess; ticks: () => number } {
  const child = spawn('sh', ['-c', 'echo $$ > "$0" && exec sh -c "while :; do echo; sleep 0.01; done"', procs], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let n = 0;
  child.stdout!.on('data', (d: Buffer) => { n += d.length; });
  return { child, ticks: () => n };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (ok()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

const hierarchies = cgroupHierarchies({});

describe.skipIf(hierarchies.length === 0)('cgroup membership', () => {
  for (const h of hierarchies) {
    it(`v${h.version}: lists a member, freezes and thaws it, adopt moves it, release removes the cgroups`, async () => {
      const m = new CgroupMembership(STORE, [h]);
      made.push({ m, ids: ['a', 'b'] });
      const { child, ticks } = member(m.joinFile('a')!);
      await until('the member to join', () => m.pids('a').includes(child.pid!));
      await until('the member to tick', () => ticks() > 2);

      m.freeze('a');
      await sleep(50); // output already under way arrives
      const frozenAt = ticks();
      await sleep(200);
      expect(ticks()).toBe(frozenAt);
      m.thaw('a');
      await until('the thawed member to tick again', () => ticks() > frozenAt);

      m.adopt('a', 'b');
      expect(m.pids('b')).toContain(child.pid);
      expect(m.pids('a')).toEqual([]);
      expect(existsSync(h.cgroup(`${STORE}-a`).dir)).toBe(false);
      const movedAt = ticks();
      await until('the adopted member to run (thawed)', () => ticks() > movedAt);

      child.kill('SIGKILL');
      await until('the member to exit', () => !m.pids('b').includes(child.pid!));
      m.release('b');
      expect(existsSync(h.cgroup(`${STORE}-b`).dir)).toBe(false);
    });
  }

  it.skipIf(hierarchies.length < 2)('finds and adopts a world whose cgroup is in the hierarchy no longer preferred', async () => {
    const [preferred, older] = hierarchies as [CgroupHierarchy, CgroupHierarchy];
    const before = new CgroupMembership(STORE, [older]);
    const now = new CgroupMembership(STORE, [preferred, older]);
    made.push({ m: now, ids: ['a', 'b'] });
    const { child } = member(before.joinFile('a')!);
    await until('the member to join', () => now.pids('a').includes(child.pid!));
    expect(readFileSync(now.joinFile('b')!, 'utf8')).toBe(''); // b's new cgroup is in the preferred hierarchy
    now.adopt('a', 'b');
    expect(now.pids('b')).toContain(child.pid);
    expect(existsSync(older.cgroup(`${STORE}-a`).dir)).toBe(false);
  });
});
