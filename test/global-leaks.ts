// vitest globalSetup: the run must leave nothing behind. Before the first test it notes the FUSE
// and overlay mounts in the tests' temp directories (tmpdir()/worldos-*) and those served by this
// checkout's daemons, the worldos cgroups, and this checkout's worldfs daemons and world inits;
// after the last, anything new fails the run with its list. What is surely this run's is cleared
// too (its daemons and inits killed, the mounts those daemons served detached), so a leak is
// reported once, not inherited by the next run. Other new mounts and cgroups are only reported:
// a second test run on the same machine (another checkout, a benchmark) may own them, and
// detaching its mounts under it would fail it.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { cgroupHierarchies } from '../src/ns/cgroup.js';
import { isWorldfsScript } from '../src/worlds/daemon.js';

const ROOT = resolve(import.meta.dirname, '..');
/** Where worlds' cgroups go, in every hierarchy this machine offers (v2 and the v1 freezer). */
const CGROUPS = cgroupHierarchies({}).map((h) => h.worldsDir);

interface Snapshot {
  readonly mounts: Set<string>;
  readonly cgroups: Set<string>;
  readonly processes: Map<number, string>;
}

/** FUSE and overlay mounts in the tests' temp directories or named by one of `daemons`' command lines. */
function fuseMounts(daemons: Map<number, string>): Set<string> {
  const mine = join(tmpdir(), 'worldos-');
  const served = [...daemons.values()].join('\n');
  const out = new Set<string>();
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const type = f[f.indexOf('-') + 1] ?? '';
    if (!(type === 'fuse' || type.startsWith('fuse.') || type === 'overlay')) continue;
    const mp = f[4]!.replace(/\\040/g, ' ');
    if (mp.startsWith(mine) || served.includes(` ${mp}`)) out.add(mp);
  }
  return out;
}

/** The worlds' cgroups, as full paths. */
function cgroups(): Set<string> {
  const out = new Set<string>();
  for (const dir of CGROUPS.filter((d) => existsSync(d))) {
    for (const d of readdirSync(dir, { withFileTypes: true })) if (d.isDirectory()) out.add(join(dir, d.name));
  }
  return out;
}

/** worldfs daemons and world inits of this checkout working in the tests' temp directories (a benchmark's are not ours). */
function ours(): Map<number, string> {
  const mine = join(tmpdir(), 'worldos-');
  const out = new Map<number, string>();
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const argv = readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
      const cmd = argv.join(' ').trim();
      // A daemon is recognised by its script, as worldctl recognises it (isWorldfsScript).
      const daemon = argv.some((a) => a.startsWith(`${ROOT}/`) && isWorldfsScript(a));
      const worldos = cmd.includes(`${ROOT}/dist/worldinit `) || daemon || cmd.startsWith(`${ROOT}/dist/worldkeep `);
      if (worldos && cmd.includes(mine)) out.set(Number(p), cmd);
    } catch { /* gone */ }
  }
  return out;
}

function snapshot(): Snapshot {
  const processes = ours();
  return { mounts: fuseMounts(processes), cgroups: cgroups(), processes };
}

export default function setup(): () => void {
  const before = snapshot();
  return () => {
    const after = snapshot();
    const mounts = [...after.mounts].filter((m) => !before.mounts.has(m));
    const groups = [...after.cgroups].filter((c) => !before.cgroups.has(c));
    const procs = [...after.processes].filter(([pid]) => !before.processes.has(pid));
    const leaks = [
      ...mounts.map((m) => `mount ${m}`),
      ...groups.map((c) => `cgroup ${c}`),
      ...procs.map(([pid, cmd]) => `process ${pid}: ${cmd}`),
    ];
    const served = procs.map(([, cmd]) => cmd).join('\n');
    // Keepers first: one whose daemon is killed first would start another.
    const keeperFirst = [...procs].sort(([, a], [, b]) => Number(b.startsWith(`${ROOT}/dist/worldkeep `)) - Number(a.startsWith(`${ROOT}/dist/worldkeep `)));
    for (const [pid] of keeperFirst) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    for (const m of mounts.filter((mp) => served.includes(` ${mp}`))) {
      try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }); } catch { /* gone */ }
    }
    if (leaks.length > 0) {
      // vitest reports an error thrown here but still exits 0: set the exit code ourselves.
      process.exitCode = 1;
      throw new Error(`the test run left ${leaks.length} thing(s) behind:\n  ${leaks.join('\n  ')}`);
    }
  };
}
