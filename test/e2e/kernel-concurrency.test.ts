// Concurrent serving on the kernel transport: the data of a big copy-up is copied in the thread
// pool while other requests are answered; a second writer joins the same copy; INTERRUPT (the
// writer killed) ends the wait and gives the copy up; the data arrives whole. A failpoint holds the
// copy (src/host/failpoints.ts), so "while it is in flight" is certain, not a matter of timing.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shellOk, waitFor } from '../helpers/procs.js';
import { mountWorldfs, stackDirs, tempDirsEachTest } from '../helpers/worldfs.js';

const children: ChildProcess[] = [];
const scratch = tempDirsEachTest('worldos-concurrency-', () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

const BIG = 8 << 20;

/** A kernel-transport view over one lower layer holding big.bin (8 MiB) and small; copy-ups held. */
async function heldView() {
  const dir = scratch();
  const d = stackDirs(dir, 1);
  const data = randomBytes(BIG);
  writeFileSync(join(d.lowers[0]!, 'big.bin'), data);
  writeFileSync(join(d.lowers[0]!, 'small'), 'small\n');
  const hold = join(dir, 'hold');
  writeFileSync(hold, '');
  process.env.WORLDOS_FAILPOINTS = `copy-up-staging=${hold}`;
  try {
    const m = await mountWorldfs({ ...d, options: ['transport=kernel'] });
    return { ...d, m, data, hold };
  } finally {
    delete process.env.WORLDOS_FAILPOINTS;
  }
}

/** Start a shell command in the background (its exit is awaited later). */
function background(cmd: string): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn('sh', ['-c', cmd], { stdio: 'ignore' });
  children.push(child);
  const done = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  return { child, done };
}

/** The copies being staged in the work directory. */
const staging = (work: string) => readdirSync(work).filter((n) => n.startsWith('tmp.'));

/** Whether process `pid` sleeps in a FUSE request (waiting for the daemon's answer). */
function waitingInFuse(pid: number): boolean {
  try {
    return /fuse|request_wait_answer/.test(readFileSync(`/proc/${pid}/wchan`, 'utf8'));
  } catch {
    return false;
  }
}

const run = (cmd: string) => shellOk(cmd, 30_000);

describe('the kernel transport serves requests while a big copy-up is staged', () => {
  it('answers lookups, reads and new files meanwhile, and then finishes the copy-up whole', async () => {
    const v = await heldView();
    const writer = background(`printf tail >> ${v.mnt}/big.bin`);
    await waitFor('the copy-up to start staging', () => staging(v.work!).length === 1);

    // Other names, other operations: all answered while the copy is held.
    expect(run(`cat ${v.mnt}/small`)).toBe('small\n');
    run(`echo new > ${v.mnt}/new && mkdir ${v.mnt}/dir && stat ${v.mnt}/dir ${v.mnt}/new >/dev/null`);
    expect(run(`head -c 4 ${v.mnt}/big.bin | od -An -tx1`).trim()).toBe([...v.data.subarray(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join(' '));
    expect(writer.child.exitCode).toBeNull(); // still waiting for its copy-up
    expect(existsSync(join(v.upper, 'big.bin'))).toBe(false);

    rmSync(v.hold);
    expect(await writer.done).toBe(0);
    const got = readFileSync(join(v.mnt, 'big.bin'));
    expect(got.length).toBe(BIG + 4);
    expect(got.subarray(0, BIG).equals(v.data)).toBe(true);
    expect(got.subarray(BIG).toString()).toBe('tail');
    expect(readFileSync(join(v.upper, 'big.bin')).equals(got)).toBe(true);
    expect(staging(v.work!)).toEqual([]);
  });

  it('lets a second writer of the same file join the copy under way: one copy, both writes land', async () => {
    const v = await heldView();
    const byte = (c: string) => { const f = join(v.upper, '..', c); writeFileSync(f, c); return f; };
    const a = background(`exec dd if=${byte('A')} of=${v.mnt}/big.bin bs=1 seek=0 conv=notrunc status=none`);
    await waitFor('the copy-up to start staging', () => staging(v.work!).length === 1);
    const b = background(`exec dd if=${byte('B')} of=${v.mnt}/big.bin bs=1 seek=1 conv=notrunc status=none`);
    await waitFor('the second writer to wait in its open', () => waitingInFuse(b.child.pid!));
    expect(staging(v.work!).length).toBe(1);
    rmSync(v.hold);
    expect([await a.done, await b.done]).toEqual([0, 0]);
    const got = readFileSync(join(v.mnt, 'big.bin'));
    expect(got.subarray(0, 2).toString()).toBe('AB');
    expect(got.subarray(2).equals(v.data.subarray(2))).toBe(true);
  });

  it('answers a writer killed while waiting (INTERRUPT) and gives its staged copy up; the view is unchanged', async () => {
    const v = await heldView();
    const writer = background(`exec sh -c 'printf x >> ${v.mnt}/big.bin'`);
    await waitFor('the copy-up to start staging', () => staging(v.work!).length === 1);
    writer.child.kill('SIGKILL');
    await writer.done; // a killed process waits for the daemon's answer: it ends only because of the EINTR
    await waitFor('the staged copy to be removed', () => staging(v.work!).length === 0);
    expect(existsSync(join(v.upper, 'big.bin'))).toBe(false);
    expect(readFileSync(join(v.mnt, 'big.bin')).equals(v.data)).toBe(true);
    rmSync(v.hold);
  });

  it('truncates a big lower file through its path after staging only the bytes that stay', async () => {
    const v = await heldView();
    const t = background(`truncate -s 3M ${v.mnt}/big.bin`);
    await waitFor('the copy-up to start staging', () => staging(v.work!).length === 1);
    run(`stat ${v.mnt}/small >/dev/null`);
    rmSync(v.hold);
    expect(await t.done).toBe(0);
    expect(readFileSync(join(v.mnt, 'big.bin')).equals(v.data.subarray(0, 3 << 20))).toBe(true);
  });

  it('keeps every outcome consistent when staged copy-ups race renames, unlinks, truncates and second writers', async () => {
    const dir = scratch();
    const d = stackDirs(dir, 1);
    const SIZE = 2 << 20;
    const data = Array.from({ length: 16 }, () => randomBytes(SIZE));
    data.forEach((b, i) => writeFileSync(join(d.lowers[0]!, `f${i}`), b));
    const v = await mountWorldfs({ ...d, options: ['transport=kernel'] });
    const racers = data.flatMap((_, i) => {
      const f = `${v.mnt}/f${i}`;
      const pair = [
        [`printf TAIL >> ${f}`, `mv ${f} ${v.mnt}/g${i}`],
        [`printf TAIL >> ${f}`, `rm -f ${f}`],
        [`printf TAIL >> ${f}`, `printf TAIL >> ${f}`],
        [`truncate -s 1M ${f}`, `printf TAIL >> ${f}`],
      ][i % 4]!;
      return pair.map((cmd) => background(cmd).done);
    });
    await Promise.all(racers);
    const at = (name: string) => (existsSync(join(v.mnt, name)) ? readFileSync(join(v.mnt, name)) : undefined);
    const startsAsLower = (b: Buffer | undefined, i: number, n: number) => b !== undefined && b.subarray(0, n).equals(data[i]!.subarray(0, n));
    for (let i = 0; i < 16; i++) {
      const f = at(`f${i}`);
      switch (i % 4) {
        case 0: { // renamed before or after the append; an append after the rename makes a new f
          const g = at(`g${i}`);
          const moved = g ?? f;
          expect(startsAsLower(moved, i, SIZE) && [SIZE, SIZE + 4].includes(moved!.length)).toBe(true);
          if (g && f) expect(f.toString()).toBe('TAIL');
          break;
        }
        case 1: // removed, appended then removed, or removed then created by the append
          if (f) expect(f.length === 4 ? f.toString() === 'TAIL' : startsAsLower(f, i, SIZE) && f.length === SIZE + 4).toBe(true);
          break;
        case 2: // both appends land, after the whole copy
          expect(startsAsLower(f, i, SIZE) && f!.subarray(SIZE).toString()).toBe('TAILTAIL');
          break;
        case 3: // the truncate and the append, in either order
          expect(startsAsLower(f, i, 1 << 20) && [1 << 20, (1 << 20) + 4].includes(f!.length)).toBe(true);
          break;
      }
    }
    await waitFor('staged copies nobody took to be removed', () => staging(v.work!).length === 0);
  });
});
