// writeback_cache (kernel transport, udba=none only): the kernel gathers small writes into few
// WRITE requests, and what programs see is unchanged — appends, partial-page writes through a
// write-only open of a lower file, truncation, and the data in the top layer once the file is closed.
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { shellOk } from '../helpers/procs.js';
import { mountWorldfs, requestsDuring, stackDirs, tempDirsEachTest, WORLDFS } from '../helpers/worldfs.js';

const scratch = tempDirsEachTest('worldos-writeback-');

async function mount(options: string[]) {
  const d = stackDirs(scratch(), 1);
  writeFileSync(join(d.lowers[0]!, 'lower.txt'), 'abcdefghij\n');
  writeFileSync(join(d.lowers[0]!, 'log'), 'one\n');
  const m = await mountWorldfs({ ...d, options: ['transport=kernel', 'udba=none', ...options] });
  return { ...d, m };
}

const sh = (cmd: string) => shellOk(cmd, 60_000);

describe('writeback_cache', () => {
  it('gathers a thousand 10-byte writes into a few requests (and without it, each is one)', async () => {
    const wb = await mount(['writeback_cache']);
    const plain = await mount(['passthrough=off']); // with passthrough, the writes would not reach the daemon at all
    const write = (mnt: string) => `dd if=/dev/zero of=${mnt}/new bs=10 count=1000 status=none`;
    expect(await requestsDuring(wb.m, () => sh(write(wb.mnt)))).toBeLessThan(200);
    expect(await requestsDuring(plain.m, () => sh(write(plain.mnt)))).toBeGreaterThanOrEqual(1000);
    for (const v of [wb, plain]) expect(statSync(join(v.upper, 'new')).size).toBe(10_000); // on the host once closed
  });

  it('keeps appends, partial-page writes to a lower file opened write-only, and truncation right', async () => {
    const v = await mount(['writeback_cache']);
    sh(`printf 'two\\n' >> ${v.mnt}/log; printf 'three\\n' >> ${v.mnt}/log`);
    sh(`printf XY | dd of=${v.mnt}/lower.txt bs=1 seek=3 conv=notrunc status=none`); // O_WRONLY: the kernel reads the page
    sh(`truncate -s 5 ${v.mnt}/lower.txt && printf Z >> ${v.mnt}/lower.txt`);
    expect(readFileSync(join(v.mnt, 'log'), 'utf8')).toBe('one\ntwo\nthree\n');
    expect(readFileSync(join(v.mnt, 'lower.txt'), 'utf8')).toBe('abcXYZ');
    expect(readFileSync(join(v.upper, 'log'), 'utf8')).toBe('one\ntwo\nthree\n');
    expect(readFileSync(join(v.upper, 'lower.txt'), 'utf8')).toBe('abcXYZ');
    expect(statSync(join(v.mnt, 'lower.txt')).size).toBe(6);
  });

  it('writes a file its owner may only write (mode 0200): the open stays write-only', async () => {
    const v = await mount(['writeback_cache']);
    writeFileSync(join(v.upper, 'wo'), '');
    chmodSync(join(v.upper, 'wo'), 0o200);
    sh(`printf data > ${v.mnt}/wo`);
    expect(readFileSync(join(v.upper, 'wo'), 'utf8')).toBe('data');
  });

  it('is refused without udba=none, and on fuse-native, with the reason', () => {
    const d = stackDirs(scratch(), 1);
    for (const [opts, why] of [
      ['writeback_cache', /udba=none/],
      ['writeback_cache,udba=none,transport=native', /transport=kernel/],
    ] as const) {
      const r = spawnSync(WORLDFS, ['-f', '-o', `lowerdir=${d.lowers[0]},upperdir=${d.upper},workdir=${d.work},${opts}`, d.mnt], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toMatch(why);
    }
  });
});
