// A merge killed while it keeps bystanders' files (issue 13, point 3): `bin/worldctl merge pq
// --into x` is held at a failpoint (src/host/failpoints.ts) — before qp keeps anything, or after it
// kept its files but before the merge recorded that — and killed with SIGKILL there. qp's view
// (mounted throughout) shows q's version meanwhile, and the next worldctl command finishes the merge:
// x shows p's version, qp still q's, through the same daemon; no journal is left.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/procs.js';
import { WorldsFixture } from '../helpers/worldctl.js';

let fx: WorldsFixture;
beforeEach(() => { fx = WorldsFixture.make('worldos-e2e-bystanders-crash-'); });
afterEach(async () => {
  delete process.env.WORLDOS_FAILPOINTS;
  await fx.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a merge killed while bystanders keep their files', () => {
  it.each(['merge-keep', 'merge-kept'])('is finished by the next command when killed at %s', async (point) => {
    writeFileSync(join(fx.base, 'f'), 'base version\n');
    await fx.init();
    await fx.ok(['create', 'x']);
    for (const w of ['p', 'q']) {
      await fx.ok(['create', w, '--from', 'x']);
      writeFileSync(join(await fx.mount(w), 'f'), `${w} version\n`);
      await fx.umount(w);
    }
    await fx.ok(['create', 'pq', '--from', 'p', '--from', 'q']);
    await fx.ok(['create', 'qp', '--from', 'q', '--from', 'p']);
    const qp = await fx.mount('qp');
    expect(readFileSync(join(qp, 'f'), 'utf8')).toBe('q version\n');
    const qpId = (await fx.worlds()).find((w) => w.name === 'qp')!.id;
    const daemon = readFileSync(join(fx.home, 'worlds', qpId, 'daemon'), 'utf8');

    const hold = join(fx.root, 'hold');
    writeFileSync(hold, '');
    process.env.WORLDOS_FAILPOINTS = `${point}=${hold}`;
    const merge = fx.spawnBin(['merge', 'pq', '--into', 'x']);
    delete process.env.WORLDOS_FAILPOINTS;
    const journal = join(fx.home, 'journal', 'merge.json');
    const kept = join(fx.home, 'worlds', qpId, 'layer', 'f');
    await waitFor('the merge to reach its failpoint', () =>
      existsSync(journal) && (point === 'merge-keep' || existsSync(kept)), 30_000);
    await sleep(300); // at the failpoint (it holds while the hold file exists)
    expect(existsSync(kept)).toBe(point === 'merge-kept');
    merge.kill('SIGKILL');
    await waitFor('the killed merge to exit', () => merge.exitCode !== null || merge.signalCode !== null);
    expect(readFileSync(join(qp, 'f'), 'utf8')).toBe('q version\n');

    await fx.ok(['list']); // finishes the merge
    expect(existsSync(journal)).toBe(false);
    expect(readdirSync(join(fx.home, 'journal'))).toEqual([]);
    expect((await fx.worlds()).map((w) => w.name).sort()).toEqual(['base', 'qp', 'x']);
    expect(readFileSync(join(qp, 'f'), 'utf8')).toBe('q version\n');
    expect(readFileSync(join(fx.home, 'worlds', qpId, 'daemon'), 'utf8')).toBe(daemon);
    expect(readFileSync(join(await fx.mount('x'), 'f'), 'utf8')).toBe('p version\n');
  });
});
