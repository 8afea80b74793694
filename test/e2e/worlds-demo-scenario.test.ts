// The paper's scenario (cli/scenario.ts, what `npm run demo` runs) as root, through bin/worldctl:
// real TCP servers in worlds, delete on failure, merge of files and processes on success — and
// nothing left behind afterwards.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { paperScenario, type ScenarioOutcome } from '../../cli/scenario.js';
import { WORLDCTL, WorldsFixture } from '../helpers/worldctl.js';

const fx = WorldsFixture.make('worldos-demo-test-');
afterAll(async () => {
  try {
    execFileSync(WORLDCTL, ['delete', 'Parent', '--recursive'], { env: { ...process.env, WORLDOS_HOME: fx.home }, stdio: 'ignore' });
  } catch { /* already gone, or never made */ }
  await fx.cleanup();
});

/** Processes whose command line names the fixture's directory (daemons, world inits). */
function processesNaming(dir: string): string[] {
  const out: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(dir)) out.push(`${pid}: ${cmd}`);
    } catch { /* gone */ }
  }
  return out;
}

describe('the paper\'s scenario with real servers, as root', () => {
  let o: ScenarioOutcome;
  const log: string[] = [];

  it('runs: Parent\'s server, Child3\'s patched server from both children\'s changes, delete, merge, stop the old one', async () => {
    o = await paperScenario({
      worldctl: (args, input) => execFileSync(WORLDCTL, args, { env: { ...process.env, WORLDOS_HOME: fx.home }, encoding: 'utf8', input }),
      say: (l) => { log.push(l); },
    });
    expect(o.parentServer).toMatch(/^220 mail\.example v1 \(server v1\)$/);
    // Child3 sees Child1's config (port, banner) and Child2's patch at once.
    expect(o.child3Server).toBe('220 mail.example v2 (server v2, patched)');
    expect(o.parentWhileChild3).toBe(o.parentServer);
  });

  it('the failing path: deleting Child3 stops its server; Parent\'s never stopped', () => {
    expect(o.child3AfterDelete).toBe('(ECONNREFUSED)');
    expect(o.parentAfterDelete).toBe(o.parentServer);
  });

  it('the passing path: after the merge Parent owns both servers and the merged files; the old one stops, the new one answers', () => {
    expect(o.serversAfterMerge.map((p) => p.nspid)).toContain(o.oldServerPid);
    expect(o.serversAfterMerge).toHaveLength(2);
    expect(o.parentFilesAfterMerge).toMatch(/A \/srv\/mail\/mail\.conf/);
    expect(o.parentFilesAfterMerge).toMatch(/A \/srv\/mail\/server\.js/);
    expect(o.oldAfterStop).toBe('(ECONNREFUSED)');
    expect(o.newAfterStop).toBe('220 mail.example v2 (server v2, patched)');
    expect(log.join('\n')).toMatch(/merged "Child2", "Child1", "Child3" into "Parent"/);
  });

  it('deleting Parent leaves no mount and no process', async () => {
    execFileSync(WORLDCTL, ['delete', 'Parent', '--recursive'], { env: { ...process.env, WORLDOS_HOME: fx.home } });
    const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(fx.root));
    expect(mounts).toEqual([]);
    expect(processesNaming(fx.root)).toEqual([]);
    expect(await greetAll(o.ports)).toEqual(['(ECONNREFUSED)', '(ECONNREFUSED)']);
  });
});

async function greetAll(ports: readonly number[]): Promise<string[]> {
  const { greet } = await import('../../cli/scenario.js');
  return Promise.all(ports.map((p) => greet(p)));
}
