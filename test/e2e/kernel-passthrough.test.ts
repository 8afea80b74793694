// FUSE passthrough (kernel transport, passthrough=auto): the kernel serves reads, writes and mmap of
// open files from their layer file, so the daemon sees no READ or WRITE; what programs see is
// unchanged — copy-up on the first write open, the lower layer untouched, a read-only handle of the
// old copy still reading it, mmap. With passthrough=off, or a layer the kernel will not stack on,
// the daemon serves the data itself.
import { spawnSync } from 'node:child_process';
import { closeSync, fchmodSync, fstatSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shellOk, waitFor } from '../helpers/procs.js';
import { daemonStats, mountWorldfs, stackDirs, tempDirsEachTest, type Mounted } from '../helpers/worldfs.js';

const scratch = tempDirsEachTest('worldos-passthrough-');

const MiB = 1024 * 1024;

async function mount(options: string[] = [], lowerdir?: string) {
  const dir = scratch();
  const d = stackDirs(dir, 1);
  const lowers = lowerdir ? [lowerdir] : d.lowers;
  if (!lowerdir) {
    writeFileSync(join(d.lowers[0]!, 'lower.txt'), 'lower\n');
    writeFileSync(join(d.lowers[0]!, 'big'), Buffer.alloc(4 * MiB, 7));
  }
  // notify=none: unwatched layers, so that a small lower file opened read-only is passthrough too
  // rather than served from the page cache (the watched-layer policy, ops-files.ts CACHED_FILE_MAX:
  // its test below asks for notify=auto, and PassthroughTable's unit tests cover it).
  const m = await mountWorldfs({ ...d, lowers, options: ['transport=kernel', 'notify=none', ...options] });
  return { ...d, lowers, m };
}

const sh = (cmd: string) => shellOk(cmd, 120_000);

/** Counters that changed while `fn` ran. */
async function during(m: Mounted, fn: () => void): Promise<Record<string, number>> {
  const before = await daemonStats(m);
  fn();
  const after = await daemonStats(m);
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]));
}

/** Python for what Node cannot do (mmap); fails the test with its stderr. */
function python(script: string, ...args: string[]): string {
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`python3 exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

describe('passthrough', () => {
  it('writes and reads 64 MiB of a new file with no READ or WRITE request, and closes its backing id', async () => {
    const v = await mount();
    const d = await during(v.m, () => {
      sh(`dd if=/dev/urandom of=${v.mnt}/data bs=1M count=64 status=none`);
      sh(`cmp ${v.mnt}/data ${v.upper}/data`);
      sh(`cat ${v.mnt}/big > /dev/null`);
    });
    expect(d.reads).toBe(0);
    expect(d.writes).toBe(0);
    expect(d.passthroughOpens).toBeGreaterThanOrEqual(3); // dd, cmp, cat
    expect(statSync(join(v.mnt, 'data')).size).toBe(64 * MiB);
    expect((await daemonStats(v.m)).backingIds).toBe(0);
  });

  it('serves a small lower file from the page cache kept across opens: no READ, no GETATTR after a read, and a lower change shows', async () => {
    const v = await mount(['notify=auto']); // the layer is watched: its changes reach the kernel's cache
    const f = join(v.mnt, 'lower.txt');
    expect(readFileSync(f, 'utf8')).toBe('lower\n'); // fills the cache
    const buf = Buffer.alloc(64);
    const d = await during(v.m, () => {
      for (let i = 0; i < 20; i++) {
        const fd = openSync(f, 'r');
        readSync(fd, buf, 0, buf.length, 0);
        fstatSync(fd); // after a passthrough read this would ask for the atime the read made stale
        closeSync(fd);
      }
    });
    expect(d.reads).toBe(0);
    expect(d.passthroughOpens ?? 0).toBe(0);
    expect(d['op.getattr'] ?? 0).toBeLessThan(5); // 20 with passthrough; a few only if the machine stalls past the attribute timeout
    writeFileSync(join(v.lowers[0]!, 'lower.txt'), 'changed in the layer\n');
    await waitFor('the lower change to show', () => readFileSync(f, 'utf8') === 'changed in the layer\n');
  });

  it('copies a lower file up on a write open, leaves the lower untouched, and keeps size and data right', async () => {
    const v = await mount();
    const d = await during(v.m, () => {
      sh(`printf 'more\\n' >> ${v.mnt}/lower.txt`);
      sh(`truncate -s 2 ${v.mnt}/big && printf Z >> ${v.mnt}/big`);
    });
    expect(d.writes).toBe(0);
    expect(readFileSync(join(v.mnt, 'lower.txt'), 'utf8')).toBe('lower\nmore\n');
    expect(readFileSync(join(v.upper, 'lower.txt'), 'utf8')).toBe('lower\nmore\n');
    expect(readFileSync(join(v.lowers[0]!, 'lower.txt'), 'utf8')).toBe('lower\n');
    expect(readFileSync(join(v.mnt, 'big'))).toEqual(Buffer.from([7, 7, 0x5a]));
    expect(statSync(join(v.lowers[0]!, 'big')).size).toBe(4 * MiB);
  });

  it('keeps a read-only handle of a lower file reading the lower copy once another handle copies it up', async () => {
    const v = await mount();
    const ro = openSync(join(v.mnt, 'lower.txt'), 'r');
    try {
      const buf = Buffer.alloc(64);
      expect(buf.toString('utf8', 0, readSync(ro, buf, 0, 64, 0))).toBe('lower\n');
      // The kernel allows one backing file per inode: this open gets the name a new node (ESTALE, retried).
      sh(`printf 'new\\n' >> ${v.mnt}/lower.txt`);
      expect(buf.toString('utf8', 0, readSync(ro, buf, 0, 64, 0))).toBe('lower\n');
      expect(readFileSync(join(v.mnt, 'lower.txt'), 'utf8')).toBe('lower\nnew\n');
      expect(statSync(join(v.mnt, 'lower.txt')).size).toBe(10);
      sh(`chmod 600 ${v.mnt}/lower.txt`);
      expect(statSync(join(v.mnt, 'lower.txt')).mode & 0o777).toBe(0o600);
      // A call on the old descriptor (the kernel does not retry those on ESTALE) reaches the file by its name.
      // The name's node drops its cached attributes through a notification: promptly, not synchronously.
      fchmodSync(ro, 0o640);
      await waitFor('the name to show the mode set through the old descriptor', () => (statSync(join(v.mnt, 'lower.txt')).mode & 0o777) === 0o640);
      expect(readFileSync(join(v.lowers[0]!, 'lower.txt'), 'utf8')).toBe('lower\n');
    } finally {
      closeSync(ro);
    }
  });

  it('keeps a read-only handle of a small lower file served from the page cache reading the lower copy once another handle copies it up, cached or not', async () => {
    const v = await mount(['notify=auto']); // watched: the small file's read-only opens are served from the page cache
    const f = join(v.mnt, 'lower.txt');
    const ro = openSync(f, 'r');
    try {
      const buf = Buffer.alloc(64);
      const read = () => buf.toString('utf8', 0, readSync(ro, buf, 0, 64, 0));
      expect(read()).toBe('lower\n');
      sh(`printf 'new\\n' >> ${f}`); // the copy-up moves the name to a new node: the pages above stay the old copy's
      expect(read()).toBe('lower\n');
      expect(fstatSync(ro).size).toBe(6);
      sh('echo 1 > /proc/sys/vm/drop_caches'); // the old copy's pages gone: the next read is a READ of its handle
      sh(`cat ${f} > /dev/null`);
      expect(read()).toBe('lower\n'); // read again from the old copy, not the new one
      expect(readFileSync(f, 'utf8')).toBe('lower\nnew\n');
      expect(readFileSync(join(v.lowers[0]!, 'lower.txt'), 'utf8')).toBe('lower\n');
    } finally {
      closeSync(ro);
    }
  });

  it('serves mmap from the layer file: a shared write reaches the top layer, a lower file maps read-only', async () => {
    const v = await mount();
    writeFileSync(join(v.mnt, 'mapped'), Buffer.alloc(8192, 0x61));
    const d = await during(v.m, () => {
      python(`
import mmap, os, sys
fd = os.open(sys.argv[1], os.O_RDWR)
m = mmap.mmap(fd, 8192)
m[4096:4101] = b'hello'
m.flush(); m.close(); os.close(fd)
fd = os.open(sys.argv[2], os.O_RDONLY)
m = mmap.mmap(fd, 0, prot=mmap.PROT_READ)
assert m[:6] == b'lower\\n', m[:6]
m.close(); os.close(fd)
`, join(v.mnt, 'mapped'), join(v.mnt, 'lower.txt'));
    });
    expect(d.reads + d.writes).toBe(0);
    expect(readFileSync(join(v.upper, 'mapped')).subarray(4096, 4101).toString()).toBe('hello');
  });

  it('with passthrough=off serves every read and write itself', async () => {
    const v = await mount(['passthrough=off']);
    const d = await during(v.m, () => {
      sh(`dd if=/dev/zero of=${v.mnt}/data bs=1M count=4 status=none`);
      sh(`cat ${v.mnt}/data ${v.mnt}/big > /dev/null`);
    });
    expect(d.writes).toBeGreaterThan(0);
    expect(d.reads).toBeGreaterThan(0);
    expect(d.passthroughOpens ?? 0).toBe(0);
  });

  it('falls back to serving a file whose layer is another passthrough mount (the kernel refuses to stack deeper)', async () => {
    const inner = await mount();
    const outer = await mount([], inner.mnt);
    const d = await during(outer.m, () => {
      expect(readFileSync(join(outer.mnt, 'lower.txt'), 'utf8')).toBe('lower\n');
      sh(`printf 'x\\n' >> ${outer.mnt}/lower.txt`); // its copy is on the outer's own top layer: passthrough
    });
    expect(d.passthroughFallbacks).toBeGreaterThanOrEqual(1);
    expect(d.reads).toBeGreaterThan(0);
    expect(readFileSync(join(outer.mnt, 'lower.txt'), 'utf8')).toBe('lower\nx\n');
    expect(readFileSync(join(inner.mnt, 'lower.txt'), 'utf8')).toBe('lower\n');
  });
});
