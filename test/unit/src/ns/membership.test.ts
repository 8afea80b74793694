// Membership strategies without namespaces: the PID-namespace record (entries, liveness, adoption),
// the choice of strategy, and which cgroup hierarchies a machine offers.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { refOf } from '../../../../src/host/process-identity.js';
import { cgroupHierarchies, parseCgroupMounts } from '../../../../src/ns/cgroup.js';
import { chooseMembership, PidNamespaceMembership } from '../../../../src/ns/membership.js';
import { pidNamespaceOf, PidNamespaceRecord } from '../../../../src/ns/pidns-record.js';

const dirs: string[] = [];
const tmp = () => { const d = mkdtempSync(join(tmpdir(), 'worldos-member-')); dirs.push(d); return d; };
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

describe('PidNamespaceRecord', () => {
  it('records a live init\'s namespace and lists the processes in it (here: this test\'s own namespace)', () => {
    const rec = new PidNamespaceRecord(join(tmp(), 'pidns'));
    rec.add(refOf(process.pid)!);
    expect(rec.entries()).toEqual([{ ns: pidNamespaceOf(process.pid), init: refOf(process.pid) }]);
    expect(rec.members()).toContain(process.pid);
  });

  it('drops an entry whose init is gone (a reused namespace inode is never taken for it)', () => {
    const file = join(tmp(), 'pidns');
    const me = refOf(process.pid)!;
    writeFileSync(file, `pid:[1] 999999999 1\n${pidNamespaceOf(process.pid)} ${me.pid} ${me.start}\nnot a line\n`);
    expect(new PidNamespaceRecord(file).entries().map((e) => e.init.pid)).toEqual([process.pid]);
  });

  it('adopting moves the namespaces of one world to another, without duplicates', () => {
    const d = tmp();
    const m = new PidNamespaceMembership((id) => join(d, id));
    m.registerInit('w2', refOf(process.pid)!);
    m.registerInit('w1', refOf(process.pid)!);
    m.adopt('w2', 'w1');
    expect(readFileSync(join(d, 'w1'), 'utf8').trim().split('\n')).toHaveLength(1);
    expect(m.pids('w2')).toEqual([]);
    expect(m.pids('w1')).toContain(process.pid);
  });
});

describe('chooseMembership', () => {
  it('follows WORLDOS_MEMBERSHIP, and refuses an unknown value', () => {
    expect(chooseMembership('k', () => '/x', { WORLDOS_MEMBERSHIP: 'pidns' }).kind).toBe('pidns');
    expect(chooseMembership('k', () => '/x', { WORLDOS_MEMBERSHIP: 'cgroup' }).kind).toBe('cgroup');
    expect(() => chooseMembership('k', () => '/x', { WORLDOS_MEMBERSHIP: 'magic' })).toThrow(/expected cgroup or pidns/);
  });
});

describe('cgroup hierarchies', () => {
  const HYBRID = [
    'tmpfs /sys/fs/cgroup tmpfs rw,relatime,mode=755 0 0',
    'cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0',
    'cgroup /sys/fs/cgroup/freezer cgroup rw,relatime,freezer 0 0',
    'cgroup2 /sys/fs/cgroup/unified cgroup2 rw,relatime 0 0',
  ].join('\n');

  it('finds the v2 mount and the v1 freezer\'s, on a hybrid machine and on a pure v2 one', () => {
    expect(parseCgroupMounts(HYBRID)).toEqual({ v2: '/sys/fs/cgroup/unified', v1Freezer: '/sys/fs/cgroup/freezer' });
    expect(parseCgroupMounts('cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid 0 0\n')).toEqual({ v2: '/sys/fs/cgroup' });
    expect(parseCgroupMounts('cgroup /a\\040b cgroup rw,freezer,devices 0 0\n')).toEqual({ v1Freezer: '/a b' });
    expect(parseCgroupMounts('cgroup /sys/fs/cgroup/cpu cgroup rw,cpu 0 0\n')).toEqual({});
  });

  it('prefers v2, keeps only what WORLDOS_CGROUP names, refuses an unknown value, and skips a mount that holds no cgroup.procs', () => {
    const d = tmp();
    for (const v of ['v2', 'v1']) { mkdirSync(join(d, v)); writeFileSync(join(d, v, 'cgroup.procs'), ''); }
    const mounts = `cgroup2 ${d}/v2 cgroup2 rw 0 0\ncgroup ${d}/v1 cgroup rw,freezer 0 0\ncgroup2 ${d}/later cgroup2 rw 0 0\n`;
    const of = (env: NodeJS.ProcessEnv) => cgroupHierarchies(env, mounts).map((h) => [h.version, h.root]);
    expect(of({})).toEqual([[2, `${d}/v2`], [1, `${d}/v1`]]);
    expect(of({ WORLDOS_CGROUP: 'v1' })).toEqual([[1, `${d}/v1`]]);
    expect(of({ WORLDOS_CGROUP: 'v2' })).toEqual([[2, `${d}/v2`]]);
    expect(() => of({ WORLDOS_CGROUP: 'v3' })).toThrow(/expected v1 or v2/);
    rmSync(join(d, 'v2', 'cgroup.procs')); // not a cgroup hierarchy (or not mounted any more)
    expect(of({})).toEqual([[1, `${d}/v1`]]);
  });
});
