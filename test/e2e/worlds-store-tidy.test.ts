// A tidy store (issue 15): deleted and merged worlds leave no mount directory or stack file, a
// merged world's view still mounted as an alias is listed and cleared by `umount`, and `gc`
// removes what a crash left and no world owns — in a real store with real FUSE views.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { killDaemonForGood, mountsUnder, waitFor } from '../helpers/procs.js';
import { REPO, WorldsFixture } from '../helpers/worldctl.js';

let fx: WorldsFixture;
const started: ChildProcess[] = [];

beforeEach(async () => {
  fx = WorldsFixture.make('worldos-e2e-tidy-');
  writeFileSync(join(fx.base, 'a.txt'), 'a\n');
  await fx.init();
});

afterEach(async () => {
  for (const c of started.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await fx.cleanup();
});

const fuseMounts = () => mountsUnder(fx.root).filter((m) => m.fstype.startsWith('fuse')).map((m) => m.mnt).sort();
const entries = (dir: string) => (existsSync(join(fx.home, dir)) ? readdirSync(join(fx.home, dir)).sort() : []);

describe('deleting and merging worlds', () => {
  it('leaves no mount directory, stack file or world directory once every world is deleted', async () => {
    for (const n of ['A', 'B', 'C']) await fx.ok(['create', n]);
    await fx.ok(['create', 'D', '--from', 'A']);
    for (const n of ['A', 'B', 'D']) await fx.mount(n);
    await fx.umount('B');
    await fx.ok(['merge', 'D', '--into', 'A']); // D's view becomes an alias of A's
    for (const n of ['A', 'B', 'C']) await fx.ok(['delete', n]);
    expect(fuseMounts()).toEqual([]);
    expect(entries('mnt')).toEqual([]);
    expect(entries('stacks')).toEqual([]);
    expect(entries('worlds')).toEqual([]);
    expect(entries('journal')).toEqual([]);
  });

  it('lists a merged world\'s view that is still mounted under its ancestor, and umount clears it', async () => {
    await fx.ok(['create', 'P']);
    await fx.ok(['create', 'C', '--from', 'P']);
    const alias = await fx.mount('C');
    await fx.ok(['merge', 'C', '--into', 'P']);
    expect(fuseMounts()).toEqual([alias]);
    const list = await fx.ok(['list']);
    expect(list).toMatch(new RegExp(`^P .*\\n  also mounted at ${alias} \\(alias of a merged world's view\\)$`, 'm'));
    const p = (await fx.worlds()).find((w) => w.name === 'P') as { aliases?: { mountpoint: string }[] };
    expect(p.aliases?.map((a) => a.mountpoint)).toEqual([alias]);

    const u = await fx.ctl(['umount', 'P']);
    expect(u).toEqual({ code: 0, stdout: `unmounted ${alias}\n`, stderr: '' });
    expect(fuseMounts()).toEqual([]);
    expect(existsSync(alias)).toBe(false);
    expect(entries('stacks')).toEqual([]);
    expect(await fx.ok(['list'])).not.toMatch(/also mounted/);
    expect((await fx.ctl(['umount', 'P'])).stderr).toMatch(/not mounted/);
  });

  it('keeps an alias a process still uses, names that process, and exits 4', async () => {
    await fx.ok(['create', 'P']);
    await fx.ok(['create', 'C', '--from', 'P']);
    const alias = await fx.mount('C');
    await fx.ok(['merge', 'C', '--into', 'P']);
    const user = spawn('sleep', ['600'], { cwd: alias, stdio: 'ignore' });
    started.push(user);
    await waitFor('sleep to start', () => existsSync(`/proc/${user.pid}/cwd`));
    const u = await fx.ctl(['umount', 'P']);
    expect(u.code).toBe(4);
    expect(u.stderr).toContain(`kept ${alias}: in use by pid ${user.pid} (sleep 600; its cwd)`);
    expect(fuseMounts()).toEqual([alias]);
    user.kill('SIGKILL');
    await waitFor('sleep to exit', () => !existsSync(`/proc/${user.pid}`));
    expect(await fx.ctl(['umount', 'P'])).toEqual({ code: 0, stdout: `unmounted ${alias}\n`, stderr: '' });
  });

  it('writes every record and log of the store 0600, after mounts, a merge and an alias refresh', async () => {
    await fx.ok(['create', 'P']);
    await fx.ok(['create', 'C', '--from', 'P']);
    await fx.mount('C');
    await fx.mount('P');
    await fx.ok(['merge', 'C', '--into', 'P']); // the alias daemon was pointed at a new stack (SIGUSR1, .ok)
    const files: string[] = [];
    const walk = (rel: string) => {
      for (const n of readdirSync(join(fx.home, rel))) {
        const p = rel ? `${rel}/${n}` : n;
        if (['mnt', 'layer', 'work', 'fence'].includes(n)) continue; // mounts, and the worlds' own files
        if (statSync(join(fx.home, p)).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk('');
    expect(files).toEqual(expect.arrayContaining(['worlds.xml', 'worlds/w1/daemon', 'worlds/w1/worldfs.log', 'worlds/w1/aliases', 'stacks/w2.json', 'stacks/w2.json.ok']));
    for (const f of files) expect(statSync(join(fx.home, f)).mode & 0o077, f).toBe(0);
    await fx.umount('P');
  });
});

/** A worldfs daemon nobody recorded (as a crashed worldctl leaves one), serving `mnt`. */
function strayDaemon(at: string): void {
  const layer = join(fx.root, 'stray-upper');
  mkdirSync(layer, { recursive: true });
  mkdirSync(join(fx.root, 'stray-work'), { recursive: true });
  mkdirSync(at, { recursive: true });
  const r = spawnSync(join(REPO, 'bin', 'worldfs'), ['-o', `lowerdir=${fx.base},upperdir=${layer},workdir=${join(fx.root, 'stray-work')},whiteout=aufs`, at], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
}

describe('worldctl gc', () => {
  it('removes what a crash left and no world owns, says what, and touches no world\'s files (--dry-run: nothing)', async () => {
    await fx.ok(['create', 'Keep']);
    await fx.ok(['create', 'Dead']);
    writeFileSync(join(fx.home, 'worlds', 'w1', 'layer', 'mine.txt'), 'mine\n');
    // A daemon that died: its mount stays (ENOTCONN).
    const dead = await fx.mount('Dead');
    await killDaemonForGood(Number(readFileSync(join(fx.home, 'worlds', 'w2', 'daemon'), 'utf8').split(' ')[0]));
    // What a crash leaves: a stray daemon's mount, an orphan world, empty mount dirs, stack files, journal leftovers.
    const stray = join(fx.home, 'mnt', 'w98');
    strayDaemon(stray);
    mkdirSync(join(fx.home, 'worlds', 'w99', 'layer'), { recursive: true });
    writeFileSync(join(fx.home, 'worlds', 'w99', 'layer', 'orphan.txt'), 'x\n');
    mkdirSync(join(fx.home, 'mnt', 'w97'));
    writeFileSync(join(fx.home, 'stacks', 'w99.json'), '{}\n');
    writeFileSync(join(fx.home, 'stacks', 'w99.json.ok'), '\n');
    writeFileSync(join(fx.home, 'journal', 'merge.progress'), '0 1\n');
    mkdirSync(join(fx.home, 'journal', 'trash'));
    // Run tickets: one of a world that is gone (kept: Keep's), one half-written.
    const ticket = (name: string) => join(fx.home, 'tickets', Buffer.from(name).toString('hex'));
    mkdirSync(join(fx.home, 'tickets'), { recursive: true });
    for (const name of ['Keep', 'Gone']) writeFileSync(ticket(name), 'worldos-run-ticket 1\n');
    const half = join(fx.home, 'tickets', `.${Buffer.from('Keep').toString('hex')}.123.abc.tmp`);
    writeFileSync(half, 'worldos-run');
    const garbage = [
      `run ticket ${ticket('Gone')}`, `run ticket ${half}`,
      `mount ${dead}`, `mount ${stray}`, `world directory ${join(fx.home, 'worlds', 'w99')}`, `mount directory ${join(fx.home, 'mnt', 'w97')}`,
      `stack file ${join(fx.home, 'stacks', 'w99.json')}`, `stack file ${join(fx.home, 'stacks', 'w99.json.ok')}`,
      `node journal ${join(fx.home, 'stacks', 'w2.nodes')}`,
      `journal leftover ${join(fx.home, 'journal', 'merge.progress')}`, `journal leftover ${join(fx.home, 'journal', 'trash')}`,
    ].sort();
    const lines = (out: string, verb: string) => out.split('\n').filter((l) => l.startsWith(verb)).map((l) => l.slice(verb.length + 1).replace(/ \(.*\)$/, '')).sort();

    const dry = await fx.ok(['gc', '--dry-run']);
    expect(lines(dry, 'would remove')).toEqual(garbage);
    expect(fuseMounts()).toEqual([dead, stray].sort());
    expect(existsSync(join(fx.home, 'worlds', 'w99'))).toBe(true);

    const done = await fx.ok(['gc']);
    expect(lines(done, 'removed')).toEqual(garbage);
    expect(fuseMounts()).toEqual([]);
    expect(entries('worlds')).toEqual(['w1', 'w2']);
    expect(entries('stacks')).toEqual([]);
    expect(entries('journal')).toEqual([]);
    expect(entries('mnt')).toEqual([]);
    expect(entries('tickets')).toEqual([Buffer.from('Keep').toString('hex')]);
    expect(readFileSync(join(fx.home, 'worlds', 'w1', 'layer', 'mine.txt'), 'utf8')).toBe('mine\n');
    expect(await fx.ok(['gc'])).toBe('nothing to remove\n');
    // The world whose daemon died comes back.
    expect(readdirSync(await fx.mount('Dead'))).toEqual(['a.txt']);
  });

  it('keeps a stray mount a process uses, and names the process', async () => {
    const stray = join(fx.home, 'mnt', 'w98');
    strayDaemon(stray);
    const user = spawn('sleep', ['600'], { cwd: stray, stdio: 'ignore' });
    started.push(user);
    await waitFor('sleep to start', () => existsSync(`/proc/${user.pid}/cwd`));
    const out = await fx.ok(['gc']);
    expect(out).toContain(`kept mount ${stray}: in use by pid ${user.pid} (sleep 600; its cwd)`);
    expect(fuseMounts()).toEqual([stray]);
  });
});
