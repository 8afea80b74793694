// Files the kernel opens itself (open=kernel, kernel transport: fs/transport/kernel/node-files.ts).
// Where every layer's changes are reported, the first OPEN is answered ENOSYS and no open(2) is a
// request after it: the file's pages stay cached, a lower change still shows, and the daemon's own
// handles (one per node, bounded) serve READ and WRITE. Where a layer is not watched, opens stay
// requests. The POSIX behaviour of open files under open=kernel is checked by the posix suites
// (their "aufs, open=kernel" variant, against ext4); this file checks what is particular to it.
import { spawnSync } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, readSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exists } from '../helpers/procs.js';
import { daemonStats, mountFencedStack, statsDuring, tempDirsEachTest } from '../helpers/worldfs.js';

const scratch = tempDirsEachTest('worldos-kernel-opens-');

const KERNEL_OPENS = ['transport=kernel', 'open=kernel', 'notify=inotify', 'timeout=3600', 'notify_timeout=3600'];

async function mount(options: readonly string[], prepare: (l0: string) => void = () => {}) {
  return mountFencedStack(scratch(), 1, options, (lowers) => prepare(lowers[0]!));
}

describe('open=kernel: the kernel opens files itself', () => {
  it('sends no OPEN or RELEASE per open once the first OPEN is refused, and reads a file once', async () => {
    const v = await mount(KERNEL_OPENS, (l0) => writeFileSync(join(l0, 'f'), 'lower data'));
    expect(readFileSync(v.p('f'), 'utf8')).toBe('lower data'); // the first OPEN: answered ENOSYS
    const d = await statsDuring(v.m, () => {
      for (let i = 0; i < 20; i++) expect(readFileSync(v.p('f'), 'utf8')).toBe('lower data');
    });
    expect(d['op.open'] ?? 0).toBe(0);
    expect(d['op.release'] ?? 0).toBe(0);
    expect(d['op.read'] ?? 0).toBe(0); // its pages stay cached across opens
    const s = await daemonStats(v.m);
    expect(s.nodeFilesKept).toBe(1);
  });

  it('shows a lower change in a file whose pages the kernel keeps', async () => {
    const v = await mount(KERNEL_OPENS, (l0) => writeFileSync(join(l0, 'f'), 'old'));
    expect(readFileSync(v.p('f'), 'utf8')).toBe('old');
    writeFileSync(join(v.lowers[0]!, 'f'), 'new, and longer');
    await v.fenced();
    expect(readFileSync(v.p('f'), 'utf8')).toBe('new, and longer');
  });

  it('copies a lower file up at its first write, not at the open, and never writes the layer', async () => {
    const v = await mount(KERNEL_OPENS, (l0) => writeFileSync(join(l0, 'f'), 'lower data'));
    const fd = openSync(v.p('f'), 'r+');
    try {
      expect(exists(join(v.upper, 'f'))).toBe(false);
      writeSync(fd, 'LOWER', 0);
      expect(readFileSync(join(v.upper, 'f'), 'utf8')).toBe('LOWER data');
    } finally {
      closeSync(fd);
    }
    expect(readFileSync(v.p('f'), 'utf8')).toBe('LOWER data');
    expect(readFileSync(join(v.lowers[0]!, 'f'), 'utf8')).toBe('lower data');
    writeFileSync(v.p('f'), 'x'); // O_TRUNC: a SETATTR, as no OPEN carries it
    expect(readFileSync(v.p('f'), 'utf8')).toBe('x');
    expect(readFileSync(join(v.lowers[0]!, 'f'), 'utf8')).toBe('lower data');
  });

  it('closes the handle of an unlinked open file once the kernel forgets it', async () => {
    const v = await mount(KERNEL_OPENS);
    writeFileSync(v.p('t'), 'temporary');
    const fd = openSync(v.p('t'), 'r+');
    unlinkSync(v.p('t'));
    const buf = Buffer.alloc(32);
    expect(buf.subarray(0, readSync(fd, buf, 0, 32, 0)).toString()).toBe('temporary');
    expect(fstatSync(fd).nlink).toBe(0);
    expect((await daemonStats(v.m)).nodeFilesKept).toBe(1);
    closeSync(fd);
    // The kernel sends FORGET when it evicts the inode; drop_caches makes that now.
    spawnSync('sh', ['-c', 'sync; echo 2 > /proc/sys/vm/drop_caches']);
    let kept = -1;
    for (let i = 0; i < 100 && kept !== 0; i++) {
      kept = (await daemonStats(v.m)).nodeFilesKept!;
      if (kept !== 0) await new Promise((r) => setTimeout(r, 50));
    }
    expect(kept).toBe(0);
  });

  it('unlinks a FIFO and a device node without opening them', async () => {
    const v = await mount(KERNEL_OPENS);
    expect(spawnSync('mkfifo', [v.p('fifo')]).status).toBe(0);
    expect(spawnSync('mknod', [v.p('null'), 'c', '1', '3']).status).toBe(0);
    spawnSync('stat', [v.p('fifo'), v.p('null')]); // the kernel holds both now
    unlinkSync(v.p('fifo')); // an open of the FIFO would wait for a writer forever
    unlinkSync(v.p('null'));
    expect(exists(v.p('fifo')) || exists(v.p('null'))).toBe(false);
    expect((await daemonStats(v.m)).nodeFilesKept).toBe(0);
  });

  it('keeps a bounded number of handles and reads every file right past the bound', async () => {
    const N = 300;
    const v = await mount(KERNEL_OPENS, (l0) => {
      for (let i = 0; i < N; i++) writeFileSync(join(l0, `f${i}`), `file ${i}`);
    });
    for (let i = 0; i < N; i++) expect(readFileSync(v.p(`f${i}`), 'utf8')).toBe(`file ${i}`);
    const s = await daemonStats(v.m);
    expect(s.nodeFilesKept).toBeLessThanOrEqual(256);
    expect(s.nodeFilesEvicted).toBeGreaterThanOrEqual(N - 256);
  });

  it('serves files created after the switch by node: no RELEASE comes, and no handle piles up', async () => {
    const v = await mount(KERNEL_OPENS, (l0) => writeFileSync(join(l0, 'f'), 'x'));
    readFileSync(v.p('f')); // the first OPEN: from now on the kernel sends no RELEASE at all
    const N = 300;
    for (let i = 0; i < N; i++) writeFileSync(v.p(`new${i}`), `new file ${i}`);
    for (let i = 0; i < N; i++) expect(readFileSync(v.p(`new${i}`), 'utf8')).toBe(`new file ${i}`);
    for (let i = 0; i < N; i++) expect(readFileSync(join(v.upper, `new${i}`), 'utf8')).toBe(`new file ${i}`);
    const s = await daemonStats(v.m);
    expect(s['op.release'] ?? 0).toBe(0);
    expect(s.nodeFilesKept).toBeLessThanOrEqual(256);
    expect(s.files).toBe(s.nodeFilesKept); // every open handle is a node's own
  });

  it('keeps a request per open where a layer is not watched (notify=none)', async () => {
    const v = await mount(['transport=kernel', 'open=kernel', 'notify=none', 'timeout=0'], (l0) => writeFileSync(join(l0, 'f'), 'lower data'));
    readFileSync(v.p('f'));
    const d = await statsDuring(v.m, () => {
      for (let i = 0; i < 5; i++) readFileSync(v.p('f'));
    });
    expect(d['op.open']).toBe(5);
    expect((await daemonStats(v.m)).nodeFilesKept).toBe(0);
  });
});
