// The staged copy-up's parts without a mount: the sparse run finder, the asynchronous sparse copy,
// and CopyStager's life cycle (join, take, release, a source changed under it, abort).
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CHUNK, copySparse, copySparseAsync, dataRuns } from '../../../../src/host/copy-data.js';
import { CopyStager } from '../../../../src/host/copy-stager.js';
import { tempDir } from '../../../helpers/worldfs.js';

const temps: { cleanup(): void }[] = [];
afterEach(() => { for (const t of temps.splice(0)) t.cleanup(); });

function dir(): string {
  const t = tempDir('worldos-stager-');
  temps.push(t);
  return t.path;
}

/** 3 MiB + 100 bytes: data, a 1 MiB + 8 KiB hole, data, and a short non-zero tail. */
function patterned(): Buffer {
  const b = Buffer.alloc(3 * CHUNK + 100);
  b.fill(7, 0, 10_000);
  b.fill(9, CHUNK + 8192 + 10_000, 2 * CHUNK + 5000);
  b.fill(1, 3 * CHUNK + 50);
  return b;
}

describe('dataRuns', () => {
  it('finds maximal runs of non-zero 4 KiB blocks, and none in zeroes', () => {
    const b = Buffer.alloc(5 * 4096);
    expect(dataRuns(b, b.length)).toEqual([]);
    b[1] = 1;
    b[2 * 4096 + 5] = 1;
    b[3 * 4096] = 1;
    expect(dataRuns(b, b.length)).toEqual([[0, 4096], [2 * 4096, 4 * 4096]]);
    expect(dataRuns(b, 2 * 4096 + 10)).toEqual([[0, 4096], [2 * 4096, 2 * 4096 + 10]]); // a short last block
  });
});

describe('copySparse and copySparseAsync', () => {
  it('copy the same bytes and leave the same holes', async () => {
    const d = dir();
    const data = patterned();
    writeFileSync(join(d, 'src'), data);
    const inp = openSync(join(d, 'src'), 'r');
    const a = openSync(join(d, 'a'), 'w');
    const b = openSync(join(d, 'b'), 'w');
    copySparse(inp, a, data.length);
    expect(await copySparseAsync(inp, b, data.length)).toBe(data.length);
    for (const fd of [inp, a, b]) closeSync(fd);
    for (const f of ['a', 'b']) {
      expect(readFileSync(join(d, f)).equals(data)).toBe(true);
      expect(lstatSync(join(d, f)).blocks * 512).toBeLessThan(data.length - CHUNK); // the hole stayed a hole
    }
  });
});

describe('CopyStager', () => {
  function setup() {
    const d = dir();
    const src = join(d, 'src');
    const data = patterned();
    writeFileSync(src, data);
    let n = 0;
    const stager = new CopyStager(() => join(d, `tmp.${++n}`), false);
    const tmps = () => readdirSync(d).filter((f) => f.startsWith('tmp.'));
    return { d, src, data, stager, tmps };
  }

  it('copies once for every waiter and hands the copy to one taker', async () => {
    const { src, data, stager, tmps } = setup();
    const t1 = stager.stage(src, data.length);
    const t2 = stager.stage(src, data.length);
    await Promise.all([t1.ready, t2.ready]);
    expect(tmps()).toHaveLength(1);
    const copy = stager.take(src, data.length)!;
    expect(readFileSync(copy).subarray(0, data.length).equals(data)).toBe(true);
    expect(stager.take(src, data.length)).toBeUndefined(); // taken
    t1.release();
    t2.release();
    expect(existsSync(copy)).toBe(true); // the taker owns it now
  });

  it('removes a copy nobody took once every waiter has released it', async () => {
    const { src, data, stager, tmps } = setup();
    const t = stager.stage(src, data.length);
    await t.ready;
    t.release();
    await waitUntilEmpty(tmps);
    expect(stager.take(src, data.length)).toBeUndefined();
  });

  it('refuses a copy whose source changed since, and one with fewer bytes than asked', async () => {
    const { src, data, stager } = setup();
    const small = stager.stage(src, 1000);
    await small.ready;
    expect(stager.take(src, 2000)).toBeUndefined();
    small.release();
    const t = stager.stage(src, data.length);
    await t.ready;
    utimesSync(src, new Date(1000), new Date(2000)); // mtime and ctime change
    expect(stager.take(src, data.length)).toBeUndefined();
    t.release();
  });

  it('gives up a copy when its last waiter leaves before it is done', async () => {
    const { src, data, stager, tmps } = setup();
    const t = stager.stage(src, data.length);
    t.release();
    await t.ready;
    await waitUntilEmpty(tmps);
    expect(stager.inFlight).toBe(0);
  });
});

async function waitUntilEmpty(list: () => string[]): Promise<void> {
  for (let i = 0; i < 500 && list().length > 0; i++) await new Promise((r) => setTimeout(r, 10));
  expect(list()).toEqual([]);
}
