// Long kernel caching in worlds (issue 6): as root, views mount with notify=auto (inotify on a small base),
// so a child world caches its view in the kernel and still sees its parent's changes — made by a
// process in the parent world: at once for a command started afterwards with worldctl run (it waits
// on the daemon's fence), promptly for a reader outside (polled, 10 s bound: the watcher is
// asynchronous); a merge into a mounted parent at once (the merge refreshes every view stacking it
// before it returns). Unchanged files stay cached: repeated stats cost no FUSE request.
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { soon } from '../helpers/procs.js';
import { afterResend, WorldsFixture, worldDaemonStats } from '../helpers/worldctl.js';

let fx: WorldsFixture;
beforeEach(() => {
  fx = WorldsFixture.make('worldos-e2e-notify-');
});
afterEach(async () => {
  // Delete the worlds first: their processes ran, so they have cgroups that only delete removes.
  const worlds = await fx.worlds().catch(() => []);
  for (const w of worlds.filter((x) => x.parents.includes('w0'))) await fx.ctl(['delete', w.name, '--recursive']);
  await fx.cleanup();
});

/** `worldctl run` as a real process (its output is the command's): stdout, failing unless it exits 0. */
async function run(world: string, script: string): Promise<string> {
  const r = await fx.bin(['run', world, '--', 'sh', '-c', script]);
  if (r.status !== 0) throw new Error(`worldctl run ${world} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

const asRoot = process.getuid?.() === 0;

/** A base with just a shell (and env, which `worldctl run` uses), its libraries and a data file. */
function miniBase(base: string): void {
  for (const f of ['/bin/sh', '/bin/rm', '/usr/bin/env', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2']) {
    mkdirSync(join(base, dirname(f)), { recursive: true });
    copyFileSync(f, join(base, f));
  }
  for (const d of ['proc', 'dev', 'sys', 'tmp', 'data', 'keep']) mkdirSync(join(base, d));
  writeFileSync(join(base, 'data/f'), 'v1\n');
  writeFileSync(join(base, 'data/gone'), 'gone\n');
  for (let i = 0; i < 10; i++) writeFileSync(join(base, `keep/k${i}`), `${i}\n`);
}

/** A world's daemon counters: SIGUSR2 makes it print them in its log. */
const canBuildBase = ['/bin/sh', '/usr/bin/env', '/lib/x86_64-linux-gnu/libc.so.6', '/lib64/ld-linux-x86-64.so.2'].every(existsSync);

describe.runIf(asRoot && canBuildBase)('worlds with long kernel caching', () => {
  it('a child sees what a process in its parent changed, and repeated stats of unchanged files reach no daemon', async () => {
    miniBase(fx.base);
    await fx.init();
    await fx.ok(['create', 'P']);
    await fx.ok(['create', 'C', '--from', 'P']);
    await fx.ok(['create', 'G', '--from', 'C']);
    const c = await fx.mount('C');
    const g = await fx.mount('G');
    const cmdline = readFileSync(`/proc/${readFileSync(join(fx.home, 'worlds/w2/daemon'), 'utf8').split(' ')[0]}/cmdline`, 'utf8');
    expect(cmdline).toContain('notify=auto');
    expect(readFileSync(join(c, 'data/f'), 'utf8')).toBe('v1\n');
    expect(readFileSync(join(g, 'data/f'), 'utf8')).toBe('v1\n');
    expect(existsSync(join(c, 'data/added'))).toBe(false); // a negative entry the kernel keeps
    expect(await run('C', 'read l < /data/f; echo $l')).toBe('v1\n');

    await run('P', 'echo version2 > /data/f; echo new > /data/added; rm /data/gone');
    // No polling for a command started in C afterwards: worldctl run waits on C's daemon's fence.
    expect(await run('C', 'read l < /data/f; read m < /data/added; echo $l $m; [ -e /data/gone ] || echo gone')).toBe('version2 new\ngone\n');
    expect(await run('G', 'read l < /data/f; echo $l')).toBe('version2\n');
    // The test's own reads through the mounts have no fence: the watcher is asynchronous.
    for (const view of [c, g]) {
      expect(await soon(() => readFileSync(join(view, 'data/f'), 'utf8') === 'version2\n')).toBe(true);
      expect(await soon(() => existsSync(join(view, 'data/added')) && !existsSync(join(view, 'data/gone')))).toBe(true);
    }
    expect(await run('C', 'read l < /data/f; read m < /data/added; echo $l $m')).toBe('version2 new\n');

    // Unchanged files: once stat'ed, their entries and attributes stay in the kernel.
    const walk = () => { for (let i = 0; i < 10; i++) statSync(join(c, `keep/k${i}`)); };
    await afterResend(); // P's changes are invalidated twice: the root's attributes are asked for once more
    walk();
    const before = await worldDaemonStats(fx.home, 'w2');
    walk();
    walk();
    expect((await worldDaemonStats(fx.home, 'w2')).requests).toBe(before.requests);
    expect(before.viewChanges).toBeGreaterThan(0);
  });

  it('a merge into a mounted parent shows at once in the parent and in its other children', async () => {
    miniBase(fx.base);
    await fx.init();
    await fx.ok(['create', 'P']);
    await fx.ok(['create', 'C', '--from', 'P']);
    await fx.ok(['create', 'M', '--from', 'P']);
    const p = await fx.mount('P');
    const c = await fx.mount('C');
    expect(readFileSync(join(p, 'data/f'), 'utf8')).toBe('v1\n');
    expect(readFileSync(join(c, 'data/f'), 'utf8')).toBe('v1\n');
    expect(existsSync(join(p, 'data/merged'))).toBe(false);
    expect(existsSync(join(c, 'data/merged'))).toBe(false);
    await run('M', 'echo from-M > /data/f; echo m > /data/merged');
    await fx.ok(['merge', 'M', '--into', 'P']);
    // No polling: the merge returned only once every view stacking P had read it afresh.
    for (const view of [p, c]) {
      expect(readFileSync(join(view, 'data/f'), 'utf8')).toBe('from-M\n');
      expect(readFileSync(join(view, 'data/merged'), 'utf8')).toBe('m\n');
    }
  });
});
