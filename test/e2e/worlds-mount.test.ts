// worldctl mount / umount / ls / delete / merge on real FUSE views, in-process through run(argv, io)
// and through bin/worldctl as a real process. Every test unmounts what it mounted (afterEach).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountsUnder } from '../helpers/procs.js';
import { abortFuseConnection, fuseConnectionsUnder, WorldsFixture } from '../helpers/worldctl.js';

let fx: WorldsFixture;

beforeEach(async () => {
  fx = WorldsFixture.make('worldos-e2e-mount-');
  writeFileSync(join(fx.base, 'keep.txt'), 'keep\n');
  writeFileSync(join(fx.base, 'edit.txt'), 'v1\n');
  writeFileSync(join(fx.base, 'gone.txt'), 'gone\n');
  mkdirSync(join(fx.base, 'dir'));
  writeFileSync(join(fx.base, 'dir', 'inner.txt'), 'inner\n');
  await fx.init();
  await fx.ok(['create', 'Parent']);
  await fx.ok(['create', 'C1', '--from', 'Parent']);
});

afterEach(async () => {
  await fx.cleanup();
});

const fuseMounts = () => mountsUnder(fx.root).filter((m) => m.fstype.startsWith('fuse'));

describe('worldctl mount and umount', () => {
  it('mounts a world at its default place, prints the mountpoint, and refuses a second mount as busy (exit 4)', async () => {
    const r = await fx.ctl(['mount', 'C1']);
    expect(r.code).toBe(0);
    const mnt = r.stdout.trim();
    expect(mnt).toBe(join(fx.home, 'mnt', 'w2'));
    expect(fuseMounts().map((m) => m.mnt)).toEqual([mnt]);
    expect(readdirSync(mnt).sort()).toEqual(['dir', 'edit.txt', 'gone.txt', 'keep.txt']);
    expect((await fx.worlds()).find((w) => w.name === 'C1')!.mountpoint).toBe(mnt);

    const again = await fx.ctl(['mount', 'C1']);
    expect(again.code).toBe(4);
    expect(again.stderr).toMatch(/already mounted at/);
    expect(fuseMounts()).toHaveLength(1);

    const u = await fx.ctl(['umount', 'C1']);
    expect(u).toEqual({ code: 0, stdout: `unmounted ${mnt}\n`, stderr: '' });
    expect(fuseMounts()).toEqual([]);
    expect((await fx.worlds()).find((w) => w.name === 'C1')!.mountpoint).toBeUndefined();
  });

  it('mounts at a chosen directory with --at', async () => {
    const at = join(fx.root, 'elsewhere');
    const r = await fx.ctl(['mount', 'C1', '--at', at]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(at);
    expect(readFileSync(join(at, 'keep.txt'), 'utf8')).toBe('keep\n');
    await fx.umount('C1');
    expect(fuseMounts()).toEqual([]);
  });

  it('refuses to umount a world that is not mounted, and to mount the base', async () => {
    const u = await fx.ctl(['umount', 'C1']);
    expect(u.code).not.toBe(0);
    expect(u.stderr).toMatch(/not mounted/);
    const b = await fx.ctl(['mount', 'base']);
    expect(b.code).toBe(1);
    expect(b.stderr).toMatch(/base world/);
    expect(fuseMounts()).toEqual([]);
  });

  it('writes through a mount go to the world\'s own layer only', async () => {
    const mnt = await fx.mount('C1');
    writeFileSync(join(mnt, 'edit.txt'), 'v2\n');
    await fx.umount('C1');
    expect(readFileSync(join(fx.base, 'edit.txt'), 'utf8')).toBe('v1\n');
    expect(readFileSync(join(fx.home, 'worlds', 'w2', 'layer', 'edit.txt'), 'utf8')).toBe('v2\n');
    expect(readdirSync(join(fx.home, 'worlds', 'w1', 'layer'))).toEqual([]);
  });
});

describe('worldctl ls', () => {
  it('lists what the world added, modified and deleted through its mount', async () => {
    const mnt = await fx.mount('C1');
    writeFileSync(join(mnt, 'new.txt'), 'new\n');
    writeFileSync(join(mnt, 'edit.txt'), 'v2\n');
    unlinkSync(join(mnt, 'gone.txt'));
    mkdirSync(join(mnt, 'newdir'));
    writeFileSync(join(mnt, 'newdir', 'x'), 'x');
    rmSync(join(mnt, 'dir'), { recursive: true });

    const r = await fx.ctl(['ls', 'C1']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`world C1 (w2), from Parent, mounted at ${mnt}`);
    const changes = lines.filter((l) => /^ {2}[AMD] /.test(l)).map((l) => l.trim()).sort();
    expect(changes).toEqual(['A /new.txt', 'A /newdir/', 'A /newdir/x', 'D /dir/', 'D /gone.txt', 'M /edit.txt']);
    expect(r.stdout).toContain('processes: none');

    const j = JSON.parse((await fx.ctl(['ls', 'C1', '--json'])).stdout) as { mountpoint: string; changes: { path: string; change: string; type: string }[] };
    expect(j.mountpoint).toBe(mnt);
    const byPath = new Map(j.changes.map((c) => [c.path, c]));
    expect(byPath.get('/new.txt')).toMatchObject({ change: 'added', type: 'file' });
    expect(byPath.get('/edit.txt')).toMatchObject({ change: 'modified', type: 'file' });
    expect(byPath.get('/gone.txt')).toMatchObject({ change: 'deleted' });
    expect(byPath.get('/dir')).toMatchObject({ change: 'deleted' });
    expect(byPath.get('/keep.txt')).toBeUndefined();
  });

  it('shows a renamed directory as renamed from its old name', async () => {
    const mnt = await fx.mount('C1');
    renameSync(join(mnt, 'dir'), join(mnt, 'moved'));
    const r = await fx.ctl(['ls', 'C1']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/ {2}A \/moved\/ {2}\(renamed from \/dir\)/);
    expect(r.stdout).toMatch(/ {2}D \/dir\//);
  });
});

describe('worldctl delete of mounted worlds', () => {
  it('unmounts a mounted world before deleting it, and its daemon is gone', async () => {
    const mnt = await fx.mount('C1');
    const daemon = readFileSync(join(fx.home, 'worlds', 'w2', 'daemon'), 'utf8');
    const pid = Number(daemon.split(' ')[0]);
    const r = await fx.ctl(['delete', 'C1']);
    expect(r.code).toBe(0);
    expect(fuseMounts().map((m) => m.mnt)).not.toContain(mnt);
    expect(existsSync(join(fx.home, 'worlds', 'w2'))).toBe(false);
    expect(existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z')).toBe(false);
  });

  it('--recursive unmounts every mounted world of the subtree', async () => {
    await fx.ok(['create', 'C2', '--from', 'C1']);
    await fx.mount('C1');
    await fx.mount('C2');
    await fx.mount('Parent');
    const r = await fx.ctl(['delete', '-r', 'C1']);
    expect(r).toEqual({ code: 0, stdout: 'deleted 2 worlds\n', stderr: '' });
    expect(fuseMounts().map((m) => m.mnt)).toEqual([join(fx.home, 'mnt', 'w1')]);
    expect((await fx.worlds()).map((w) => w.name)).toEqual(['base', 'Parent']);
  });
});

describe('layer order of a world with several parents (C3)', () => {
  it('shows the first --from parent\'s version over the second\'s, and both over the common ancestor', async () => {
    // Layers written directly (they are plain directories): Parent, then two children over it.
    await fx.ok(['create', 'C2', '--from', 'Parent']);
    const layer = (id: string) => join(fx.home, 'worlds', id, 'layer');
    writeFileSync(join(layer('w1'), 'x'), 'Parent');
    writeFileSync(join(layer('w1'), 'y'), 'Parent');
    writeFileSync(join(layer('w1'), 'z'), 'Parent');
    writeFileSync(join(layer('w2'), 'x'), 'C1');
    writeFileSync(join(layer('w3'), 'x'), 'C2');
    writeFileSync(join(layer('w3'), 'y'), 'C2');
    await fx.ok(['create', 'D12', '--from', 'C1', '--from', 'C2']);
    await fx.ok(['create', 'D21', '--from', 'C2', '--from', 'C1']);
    const read = (m: string) => ['x', 'y', 'z', 'keep.txt'].map((f) => readFileSync(join(m, f), 'utf8'));
    expect(read(await fx.mount('D12'))).toEqual(['C1', 'C2', 'Parent', 'keep\n']);
    expect(read(await fx.mount('D21'))).toEqual(['C2', 'C2', 'Parent', 'keep\n']);
  });
});

describe('bin/worldctl mount, ls, merge as real processes', () => {
  it('mounts, changes a file, unmounts, lists the change and merges it into the parent', async () => {
    const m = await fx.bin(['mount', 'C1']);
    expect(m.status).toBe(0);
    const mnt = m.stdout.trim();
    writeFileSync(join(mnt, 'f'), 'hi\n');
    expect((await fx.bin(['mount', 'C1'])).status).toBe(4);
    const u = await fx.bin(['umount', 'C1']);
    expect(u.status).toBe(0);
    expect(fuseMounts()).toEqual([]);
    const ls = await fx.bin(['ls', 'C1']);
    expect(ls.status).toBe(0);
    expect(ls.stdout).toContain('  A /f\n');
    const merge = await fx.bin(['merge', 'C1', '--into', 'Parent']);
    expect(merge.status).toBe(0);
    expect(merge.stdout).toBe('merged "C1" into "Parent"\n');
    const tree = await fx.bin(['tree']);
    expect(tree.stdout).toBe('base\n└── Parent\n');
    expect(readFileSync(join(await fx.mount('Parent'), 'f'), 'utf8')).toBe('hi\n');
  });
});

describe('a world that is mounted while it is merged', () => {
  /**
   * Read a mount from a separate process, bounded: a view that hangs must fail the test, not hang
   * the run. A reader stuck on a FUSE request survives SIGKILL, so on timeout the mount's FUSE
   * connection is aborted, which releases it.
   */
  const readFromOutside = (mnt: string) => new Promise<{ timedOut: boolean; status: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['-e',
      `const fs = require('fs'); const m = ${JSON.stringify(mnt)};
       process.stdout.write(JSON.stringify({ names: fs.readdirSync(m).sort(), f: fs.readFileSync(m + '/f', 'utf8') }));`,
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    const timer = setTimeout(() => {
      timedOut = true;
      for (const c of fuseConnectionsUnder(mnt)) abortFuseConnection(c.device);
      child.kill('SIGKILL');
    }, 10_000);
    child.once('close', (status) => { clearTimeout(timer); resolve({ timedOut, status, stdout, stderr }); });
  });

  it('keeps answering at its mountpoint, as an alias of Parent, after the merge', async () => {
    const c1 = await fx.mount('C1');
    writeFileSync(join(c1, 'f'), 'from C1\n');
    const p = await fx.mount('Parent');
    const r = await fx.ctl(['merge', 'C1', '--into', 'Parent']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect((await fx.worlds()).map((w) => w.name)).toEqual(['base', 'Parent']);
    expect(readFileSync(join(p, 'f'), 'utf8')).toBe('from C1\n');

    const seen = await readFromOutside(c1);
    expect(seen.timedOut, `reading ${c1} hung`).toBe(false);
    expect(seen.status, seen.stderr).toBe(0);
    expect(JSON.parse(seen.stdout)).toEqual({ names: ['dir', 'edit.txt', 'f', 'gone.txt', 'keep.txt'], f: 'from C1\n' });
  });
});
