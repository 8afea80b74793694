// Creation is instant: `worldctl create` copies nothing, whatever the size of the parent. Measured
// for a 10-file and a 100,000-file parent and printed for the report (timings are not asserted:
// the machine is shared); asserted is that the new world's directory holds only an empty layer/
// and an empty work/. The base is a tmpfs mounted in the temp dir, so that writing and removing
// 100,000 files does not depend on a shared disk; cleanup() unmounts it.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listRecursive, WorldsFixture } from '../helpers/worldctl.js';

let fx: WorldsFixture;

beforeEach(() => {
  fx = WorldsFixture.make('worldos-ctl-instant-');
  expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1g', 'tmpfs', fx.base]).status).toBe(0);
});

afterEach(async () => {
  await fx.cleanup();
});

/** `count` small files in the base, 1,000 per directory. */
function fillBase(count: number): void {
  for (let d = 0; d * 1000 < count; d++) {
    const dir = join(fx.base, `d${d}`);
    mkdirSync(dir);
    for (let f = d * 1000; f < Math.min(count, (d + 1) * 1000); f++) writeFileSync(join(dir, `f${f}`), `file ${f}\n`);
  }
}

describe('worldctl create', () => {
  it.each([10, 100_000])('creates a world from a %i-file parent without copying anything', async (count) => {
    const t0 = performance.now();
    fillBase(count);
    const fillMs = performance.now() - t0;
    await fx.init();
    await fx.ok(['create', 'Parent']);

    const start = performance.now();
    const r = await fx.ctl(['create', 'Child', '--from', 'Parent']);
    const createMs = performance.now() - start;
    expect(r).toEqual({ code: 0, stdout: 'created world "Child" (w2)\n', stderr: '' });

    const t1 = performance.now();
    const fromBase = await fx.ctl(['create', 'Sibling']);
    const fromBaseMs = performance.now() - t1;
    expect(fromBase.code).toBe(0);

    const t2 = performance.now();
    const viaBin = await fx.bin(['create', 'ViaBin', '--from', 'Parent']);
    const binMs = performance.now() - t2;
    expect(viaBin.status).toBe(0);

    console.log(`create from a ${count}-file parent: ${createMs.toFixed(1)} ms in-process, ` +
      `${binMs.toFixed(0)} ms as bin/worldctl (node start-up included); from the base directly ` +
      `${fromBaseMs.toFixed(1)} ms in-process; writing the files took ${fillMs.toFixed(0)} ms`);

    for (const id of ['w1', 'w2', 'w3', 'w4']) {
      const dir = join(fx.home, 'worlds', id);
      expect(readdirSync(dir).sort(), id).toEqual(['layer', 'work']);
      expect(listRecursive(join(dir, 'layer')), id).toEqual([]);
      expect(listRecursive(join(dir, 'work')), id).toEqual([]);
    }
    expect(readdirSync(fx.base)).toHaveLength(Math.ceil(count / 1000));
  });
});
