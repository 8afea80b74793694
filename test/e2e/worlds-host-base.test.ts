// A world over the host's root (issue 11 point 2): as root its daemon watches the base with fanotify
// (too big for inotify), so the kernel caches the base's entries and attributes, and a change the
// host makes under the base shows in the world: at once for a command started with worldctl run
// afterwards (it waits on the daemon's fence), promptly (polled, bounded) through the mount —
// entries the kernel had cached included, in a directory the world copied up (merged) too, while a
// name the world removed stays hidden when the host makes it again.
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { exists, soon } from '../helpers/procs.js';
import { afterResend, WorldsFixture, worldDaemonStats } from '../helpers/worldctl.js';

let fx: WorldsFixture;
beforeEach(() => {
  fx = WorldsFixture.make('worldos-e2e-hostbase-');
});
afterEach(async () => {
  const worlds = await fx.worlds().catch(() => []);
  for (const w of worlds.filter((x) => x.parents.length > 0)) await fx.ctl(['delete', w.name, '--recursive']).catch(() => undefined);
  await fx.cleanup();
});

async function run(world: string, script: string): Promise<string> {
  const r = await fx.bin(['run', world, '--', 'sh', '-c', script]);
  if (r.status !== 0) throw new Error(`worldctl run ${world} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

/** A world's daemon counters: SIGUSR2 makes it print them in its log. */
const asRoot = process.getuid?.() === 0;

describe.runIf(asRoot)('a world over the host root', () => {
  it('caches the base in the kernel and shows each host change under it: files and directories created, written, chmod-ed, renamed, removed', async () => {
    const host = join(fx.root, 'host'); // under /tmp: part of the base (only the store is pruned)
    mkdirSync(join(host, 'd'), { recursive: true });
    mkdirSync(join(host, 'merged'));
    writeFileSync(join(host, 'f'), 'v1\n');
    writeFileSync(join(host, 'd/x'), 'x\n');
    writeFileSync(join(host, 'merged/a'), 'a\n');
    writeFileSync(join(host, 'hidden'), 'hidden\n');
    await fx.ok(['init', '--base', '/']);
    await fx.ok(['create', 'w']);
    const m = await fx.mount('w');
    const v = (rel: string) => join(m, host, rel);
    // The world copies a base directory up (merged: its own file beside the base's) and removes a base file (whiteout).
    await run('w', `echo own > ${host}/merged/own; rm ${host}/hidden`);
    const log = readFileSync(join(fx.home, 'worlds/w1/worldfs.log'), 'utf8');
    expect(log).not.toMatch(/not watched|fanotify is not available/); // a mount fanotify cannot mark is left to inotify

    // Everything the test will change, cached by the kernel: stat'ed twice, the second time costs no request.
    const names = ['f', 'd', 'd/x', 'merged', 'merged/a', 'merged/own', 'new', 'd2', 'dd', 'merged/b', 'hidden'];
    const look = () => names.map((n) => exists(v(n)));
    expect(look()).toEqual([true, true, true, true, true, true, false, false, false, false, false]);
    await afterResend(); // an invalidation's second notice (the world's own changes above) makes the kernel ask once more
    expect(look()).toEqual([true, true, true, true, true, true, false, false, false, false, false]);
    const before = await worldDaemonStats(fx.home, 'w1');
    expect(look()).toEqual([true, true, true, true, true, true, false, false, false, false, false]);
    expect((await worldDaemonStats(fx.home, 'w1')).requests).toBe(before.requests);
    expect(statSync(v('f')).size).toBe(3);

    writeFileSync(join(host, 'f'), 'version 2\n');
    chmodSync(join(host, 'f'), 0o600);
    writeFileSync(join(host, 'new'), 'new\n');
    mkdirSync(join(host, 'd2'));
    writeFileSync(join(host, 'd2/y'), 'y\n');
    renameSync(join(host, 'd'), join(host, 'dd'));
    writeFileSync(join(host, 'merged/b'), 'b\n');
    rmSync(join(host, 'merged/a'));
    writeFileSync(join(host, 'hidden'), 'again\n');

    // A command started afterwards sees every change (worldctl run waits on the daemon's fence).
    const script = [
      `cd ${host}`, 'cat f', 'stat -c %a f', 'cat new d2/y dd/x', '[ -e d ] || echo no-d', 'ls merged | tr "\\n" " "; echo',
      '[ -e hidden ] || echo hidden-stays-hidden',
    ].join('; ');
    expect(await run('w', script)).toBe('version 2\n600\nnew\ny\nx\nno-d\nb own \nhidden-stays-hidden\n');
    // Through the mount, without a fence: promptly.
    expect(await soon(() => exists(v('new')) && !exists(v('d')) && exists(v('dd/x')) && statSync(v('f')).size === 10)).toBe(true);
    expect(statSync(v('f')).mode & 0o777).toBe(0o600);
    expect(await soon(() => !exists(v('merged/a')) && exists(v('merged/b')))).toBe(true);
    expect(exists(v('hidden'))).toBe(false);
    expect((await worldDaemonStats(fx.home, 'w1')).viewChanges).toBeGreaterThan(0);
  });
});
