// `npm run demo`: the paper's scenario (cli/scenario.ts), for real, through bin/worldctl, in a
// throw-away store. Ends by deleting Parent and checking that no mount and no process is left.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { paperScenario, type ScenarioOutcome } from './scenario.js';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const base = mkdtempSync(join(tmpdir(), 'worldos-demo-'));
const home = join(base, 'store');
const env = { ...process.env, WORLDOS_HOME: home };
const say = (s = '') => process.stdout.write(s + '\n');

const driver = {
  worldctl: (args: readonly string[], input?: string) =>
    execFileSync(join(repo, 'bin', 'worldctl'), args, { env, encoding: 'utf8', input }),
  say,
};

/** What went wrong in the run, judged on what the servers answered (empty: all as the paper says). */
function problems(o: ScenarioOutcome): string[] {
  const out: string[] = [];
  const check = (ok: boolean, what: string) => { if (!ok) out.push(what); };
  check(/server v1/.test(o.parentServer), `Parent's server did not answer v1: ${o.parentServer}`);
  check(/v2.*patched/.test(o.child3Server), `Child3's server did not run the patched v2: ${o.child3Server}`);
  check(/server v1/.test(o.parentAfterDelete), `Parent's server stopped when Child3 was deleted: ${o.parentAfterDelete}`);
  check(/^\(/.test(o.child3AfterDelete), `Child3's server still answers after delete: ${o.child3AfterDelete}`);
  check(o.serversAfterMerge.length === 2, `Parent should own two servers after the merge, has ${o.serversAfterMerge.length}`);
  check(/^\(/.test(o.oldAfterStop), `the old server still answers: ${o.oldAfterStop}`);
  check(/v2.*patched/.test(o.newAfterStop), `the new server stopped answering in Parent: ${o.newAfterStop}`);
  return out;
}

/** Mounts under the demo's directory, and processes naming it (worldfs daemons, world inits). */
function leftovers(): string[] {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(base));
  const procs: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
      if (cmd.includes(base)) procs.push(`process ${pid} (${cmd.trim()})`);
    } catch { /* gone */ }
  }
  return [...mounts.map((l) => `mount ${l.split(' ')[4]}`), ...procs];
}

async function main(): Promise<number> {
  let code = 0;
  try {
    const bad = problems(await paperScenario(driver));
    for (const p of bad) process.stderr.write(`demo: ${p}\n`);
    if (bad.length > 0) code = 1;
  } catch (e) {
    process.stderr.write(`demo failed: ${(e as Error).message}\n`);
    code = 1;
  } finally {
    try {
      execFileSync(join(repo, 'bin', 'worldctl'), ['delete', 'Parent', '--recursive'], { env, stdio: 'ignore' });
      say('\nDeleted Parent: its processes (the new server among them) and its view.');
    } catch { /* nothing to delete */ }
    const left = leftovers();
    if (left.length > 0) {
      process.stderr.write(`demo: left behind: ${left.join(', ')}\n`);
      code = 1;
    } else {
      rmSync(base, { recursive: true, force: true });
      say('Nothing left: no mount, no process; the demo store is removed.');
    }
  }
  return code;
}

process.exitCode = await main();
