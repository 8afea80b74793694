// Membership strategies without namespaces: the PID-namespace record (entries, liveness, adoption)
// and the choice of strategy.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { refOf } from '../../../../src/host/process-identity.js';
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
