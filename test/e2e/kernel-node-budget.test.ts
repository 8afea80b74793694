// The node budget (nodes=, fs/transport/kernel/node-budget.ts), on a real mount: past it, the
// daemon asks the kernel to drop the inodes it looked up longest ago (FUSE_NOTIFY_PRUNE), and the
// kernel FORGETs those nothing uses, so the node table stays near the budget however many names are
// looked up. What something uses stays: a mount on a directory of the view, an open file, a
// process's working directory. A pruned name is looked up again, with what the view has (an upper
// copy included).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shellOk } from '../helpers/procs.js';
import { daemonStats, isMounted, mountWorldfs, stackDirs, tempDirsEachTest } from '../helpers/worldfs.js';

const FILES = 3000;
const BUDGET = 1024;

const undo: (() => void)[] = [];
const scratch = tempDirsEachTest('worldos-budget-', () => {
  for (const u of undo.splice(0).reverse()) {
    try { u(); } catch { /* already undone */ }
  }
});

async function mount(options: string[]) {
  const d = stackDirs(scratch(), 1);
  const lower = d.lowers[0]!;
  mkdirSync(join(lower, 'many'));
  for (let i = 0; i < FILES; i++) writeFileSync(join(lower, 'many', `f${i}`), `${i}\n`);
  mkdirSync(join(lower, 'site'));
  mkdirSync(join(lower, 'home'));
  writeFileSync(join(lower, 'held'), 'held\n');
  const m = await mountWorldfs({ ...d, whiteout: 'aufs', options: ['transport=kernel', ...options] });
  return { ...d, m };
}

/**
 * The daemon's stats once its table is under twice the budget: rounds are at least 50 ms apart and
 * one at a time, so on a loaded machine the last names looked up may still wait for one. A request
 * (a lookup of a name that does not exist) every 60 ms gives the daemon its next chance; 30 s
 * without getting there is a failure (a hang detector, not a speed check).
 */
async function settled(v: Awaited<ReturnType<typeof mount>>): Promise<Record<string, number>> {
  for (let i = 0; ; i++) {
    const s = await daemonStats(v.m);
    if (s.nodes! < 2 * BUDGET || i >= 500) return s;
    existsSync(join(v.mnt, `absent-${i}`));
    await new Promise((r) => setTimeout(r, 60));
  }
}

/** stat every file of many/, `rounds` times over. */
function statAll(mnt: string, rounds: number): void {
  for (let r = 0; r < rounds; r++) for (let i = 0; i < FILES; i++) statSync(join(mnt, 'many', `f${i}`));
}

describe('node budget (nodes=)', () => {
  it('keeps the node table near the budget, and leaves alone a mount, an open file and a working directory', async () => {
    const v = await mount([`nodes=${BUDGET}`]);
    // Before: a lower file changed through the view (an upper copy), a mount on a directory, an
    // open file, a process whose working directory is in the view.
    writeFileSync(join(v.mnt, 'many', 'f7'), 'changed\n');
    const site = join(v.mnt, 'site');
    shellOk(`mount -t tmpfs worldos-budget ${site} && echo mounted > ${site}/note`, 30_000);
    undo.push(() => shellOk(`umount ${site}`, 30_000));
    const fd = openSync(join(v.mnt, 'held'), 'r');
    undo.push(() => closeSync(fd));
    const home = join(v.mnt, 'home');
    const sleeper: ChildProcess = spawn('sleep', ['600'], { cwd: home, stdio: 'ignore' });
    undo.push(() => sleeper.kill('SIGKILL'));

    statAll(v.mnt, 2);
    const s = await settled(v);

    expect(isMounted(site)).toBe(true);
    expect(readFileSync(join(site, 'note'), 'utf8')).toBe('mounted\n');
    const buf = Buffer.alloc(16);
    expect(buf.toString('utf8', 0, readSync(fd, buf, 0, 16, 0))).toBe('held\n');
    expect(readlinkSync(`/proc/${sleeper.pid}/cwd`)).toBe(home);
    // Pruned names come back as the view has them.
    expect(readFileSync(join(v.mnt, 'many', 'f7'), 'utf8')).toBe('changed\n');
    expect(readFileSync(join(v.mnt, 'many', 'f2999'), 'utf8')).toBe('2999\n');
    expect(readdirSync(join(v.mnt, 'many'))).toHaveLength(FILES);

    expect(s.pruneRounds).toBeGreaterThan(0);
    expect(s.forgets).toBeGreaterThan(FILES - BUDGET);
    expect(s.nodes).toBeLessThan(2 * BUDGET);
  });

  it('with nodes=0, never prunes: the table holds every name looked up', async () => {
    const v = await mount(['nodes=0']);
    statAll(v.mnt, 1);
    const s = await daemonStats(v.m);
    expect(s.pruneRounds ?? 0).toBe(0);
    expect(s.nodes).toBeGreaterThan(FILES);
  });
});
