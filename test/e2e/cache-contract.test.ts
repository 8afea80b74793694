// The caching contract of a mounted view (docs/whiteouts.md, "Lower layers that change"): what the
// daemon and the kernel remember of lower layers shows a lower change within timeout= (polled up
// to 5 s, never timed), on a read-only view too (whose attributes the kernel caches); changes made
// through the view show at once even with udba=none, where lower layers are kept for good.
import { chmodSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountWorldfs, tempDir, unmountAll } from '../helpers/worldfs.js';
import { eventually } from './support/views.js';

let tmp: ReturnType<typeof tempDir>;
let low: string;
let mnt: string;

async function mount(options: string[]) {
  const upper = join(tmp.path, 'upper');
  const work = join(tmp.path, 'work');
  mkdirSync(upper);
  mkdirSync(work);
  return mountWorldfs({ lowers: [low, join(tmp.path, 'base')], upper, work, mnt, whiteout: 'aufs', options });
}

beforeEach(() => {
  tmp = tempDir('worldos-cache-');
  low = join(tmp.path, 'low');
  mnt = join(tmp.path, 'mnt');
  mkdirSync(join(low, 'd'), { recursive: true });
  mkdirSync(join(tmp.path, 'base', 'd'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(tmp.path, 'base', 'd', `f${i}`), `${i}`);
  writeFileSync(join(low, 'd', 'size'), 'four');
});

afterEach(async () => {
  await unmountAll();
  tmp.cleanup();
});

describe('worldfs caching contract', () => {
  it('shows a name added to a lower directory it has listed and looked up often, within the timeout', async () => {
    await mount(['timeout=1']);
    for (let i = 0; i < 20; i++) statSync(join(mnt, 'd', `f${i}`));
    for (let i = 0; i < 10; i++) expect(() => statSync(join(mnt, 'd', `new${i}`))).toThrow();
    expect(readdirSync(join(mnt, 'd'))).not.toContain('new3');
    writeFileSync(join(low, 'd', 'new3'), 'late');
    expect(await eventually(() => readdirSync(join(mnt, 'd')).includes('new3'))).toBe(true);
    expect(await eventually(() => { try { return statSync(join(mnt, 'd', 'new3')).size === 4; } catch { return false; } })).toBe(true);
  });

  it('shows a lower file\'s new size in a read-only view, whose attributes the kernel caches', async () => {
    await mount(['timeout=1', 'ro']);
    expect(statSync(join(mnt, 'd', 'size')).size).toBe(4);
    expect(() => writeFileSync(join(mnt, 'd', 'x'), 'x')).toThrow(expect.objectContaining({ code: 'EROFS' }));
    writeFileSync(join(low, 'd', 'size'), 'eight ch');
    expect(await eventually(() => statSync(join(mnt, 'd', 'size')).size === 8)).toBe(true);
  });

  it('shows changes made through the view at once with udba=none', async () => {
    await mount(['udba=none']);
    const d = join(mnt, 'd');
    for (let i = 0; i < 20; i++) statSync(join(d, `f${i}`));
    rmSync(join(d, 'f1'));
    expect(() => statSync(join(d, 'f1'))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    renameSync(join(d, 'f2'), join(d, 'g2'));
    expect(readdirSync(d)).toContain('g2');
    expect(readdirSync(d)).not.toContain('f2');
    chmodSync(join(d, 'f3'), 0o600);
    expect(statSync(join(d, 'f3')).mode & 0o777).toBe(0o600);
    mkdirSync(join(d, 'f1'));
    expect(statSync(join(d, 'f1')).isDirectory()).toBe(true);
    expect(readdirSync(join(d, 'f1'))).toEqual([]);
  });
});
