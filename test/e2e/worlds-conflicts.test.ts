// Merge conflicts: a path the child changed that the parent changed too since the child first saw
// it. Default: exit 3 and nothing changes; --on-conflict child takes the child's version;
// --on-conflict parent keeps the parent's and drops only that path. All changes through mounts.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeTree } from '../helpers/tree.js';
import { listRecursive, viewDiff, WorldsFixture } from '../helpers/worldctl.js';

let fx: WorldsFixture;

beforeEach(() => {
  fx = WorldsFixture.make('worldos-e2e-conflict-');
});

afterEach(async () => {
  await fx.cleanup();
});

interface Case {
  readonly name: string;
  /** Where the contested file lives before the child changes it. */
  readonly origin: 'base' | 'parent layer';
}

// A file in the base is copied up by the parent's change (a new object); a file already in the
// parent's own layer is changed in place (same inode, new ctime). Both must count as a change.
const CASES: readonly Case[] = [
  { name: 'a file of the base', origin: 'base' },
  { name: 'a file of the parent\'s own layer', origin: 'parent layer' },
];

/**
 * Parent and Child1 both change /conf; Child1 also adds /extra and changes /other (no conflict
 * there). Parent stays mounted; returns its mountpoint.
 */
async function contested(c: Case): Promise<string> {
  writeFileSync(join(fx.base, 'other'), 'other v1\n');
  if (c.origin === 'base') writeFileSync(join(fx.base, 'conf'), 'v1\n');
  await fx.init();
  await fx.ok(['create', 'Parent']);
  const p = await fx.mount('Parent');
  if (c.origin === 'parent layer') writeFileSync(join(p, 'conf'), 'v1\n');
  await fx.ok(['create', 'Child1', '--from', 'Parent']);
  const c1 = await fx.mount('Child1');
  expect(readFileSync(join(c1, 'conf'), 'utf8')).toBe('v1\n');
  writeFileSync(join(c1, 'conf'), 'child\n');
  writeFileSync(join(c1, 'extra'), 'extra\n');
  writeFileSync(join(c1, 'other'), 'other child\n');
  await fx.umount('Child1');
  writeFileSync(join(p, 'conf'), 'parent\n');
  return p;
}

describe.each(CASES)('a file changed in both Parent and Child1 ($name)', (c) => {
  it('makes merge exit 3, naming the path, and change nothing', async () => {
    const p = await contested(c);
    const parentBefore = describeTree(p);
    const registry = readFileSync(join(fx.home, 'worlds.xml'), 'utf8');
    const childLayer = listRecursive(join(fx.home, 'worlds', 'w2', 'layer'));

    const r = await fx.ctl(['merge', 'Child1', '--into', 'Parent']);
    expect(r.code).toBe(3);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/merge refused: 1 path\(s\) changed in "Parent"/);
    expect(r.stderr).toContain('/conf  (changed by "Child1")');
    expect(r.stderr).toMatch(/--on-conflict child/);

    expect(viewDiff(parentBefore, describeTree(p))).toEqual([]);
    expect(readFileSync(join(fx.home, 'worlds.xml'), 'utf8')).toBe(registry);
    expect(listRecursive(join(fx.home, 'worlds', 'w2', 'layer'))).toEqual(childLayer);
    expect(existsSync(join(fx.home, 'journal', 'merge.json'))).toBe(false);
    expect(readFileSync(join(await fx.mount('Child1'), 'conf'), 'utf8')).toBe('child\n');
  });

  it('takes the child\'s version with --on-conflict child', async () => {
    const p = await contested(c);
    const r = await fx.ctl(['merge', 'Child1', '--into', 'Parent', '--on-conflict', 'child']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('merged "Child1" into "Parent"\n1 conflict(s) resolved by --on-conflict child:\n  /conf\n');
    expect(['conf', 'extra', 'other'].map((f) => readFileSync(join(p, f), 'utf8'))).toEqual(['child\n', 'extra\n', 'other child\n']);
    expect((await fx.worlds()).map((w) => w.name)).toEqual(['base', 'Parent']);
  });

  it('keeps Parent\'s version with --on-conflict parent and applies every other change', async () => {
    const p = await contested(c);
    const r = await fx.ctl(['merge', 'Child1', '--into', 'Parent', '--on-conflict', 'parent']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('merged "Child1" into "Parent"\n1 conflict(s) resolved by --on-conflict parent:\n  /conf\n');
    expect(['conf', 'extra', 'other'].map((f) => readFileSync(join(p, f), 'utf8'))).toEqual(['parent\n', 'extra\n', 'other child\n']);
    expect((await fx.worlds()).map((w) => w.name)).toEqual(['base', 'Parent']);
  });
});

describe('other conflicts', () => {
  it('a file Child1 created and Parent created later too conflicts', async () => {
    await fx.init();
    await fx.ok(['create', 'Parent']);
    await fx.ok(['create', 'Child1', '--from', 'Parent']);
    const c1 = await fx.mount('Child1');
    writeFileSync(join(c1, 'new'), 'child\n');
    await fx.umount('Child1');
    const p = await fx.mount('Parent');
    writeFileSync(join(p, 'new'), 'parent\n');
    const r = await fx.ctl(['merge', 'Child1', '--into', 'Parent']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('/new  (changed by "Child1")');
    expect(readFileSync(join(p, 'new'), 'utf8')).toBe('parent\n');
    expect((await fx.worlds()).map((w) => w.name)).toEqual(['base', 'Parent', 'Child1']);
  });

  it('a file Parent deleted after Child1 changed it conflicts', async () => {
    writeFileSync(join(fx.base, 'f'), 'v1\n');
    await fx.init();
    await fx.ok(['create', 'Parent']);
    await fx.ok(['create', 'Child1', '--from', 'Parent']);
    const c1 = await fx.mount('Child1');
    writeFileSync(join(c1, 'f'), 'child\n');
    await fx.umount('Child1');
    const p = await fx.mount('Parent');
    unlinkSync(join(p, 'f'));
    const r = await fx.ctl(['merge', 'Child1', '--into', 'Parent']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('/f  (changed by "Child1")');
    expect(existsSync(join(p, 'f'))).toBe(false);
  });

  it('changes of Parent at paths the child never touched are no conflict and are kept', async () => {
    writeFileSync(join(fx.base, 'a'), 'a1\n');
    writeFileSync(join(fx.base, 'b'), 'b1\n');
    await fx.init();
    await fx.ok(['create', 'Parent']);
    await fx.ok(['create', 'Child1', '--from', 'Parent']);
    const c1 = await fx.mount('Child1');
    writeFileSync(join(c1, 'a'), 'child\n');
    await fx.umount('Child1');
    const p = await fx.mount('Parent');
    writeFileSync(join(p, 'b'), 'parent\n');
    const r = await fx.ctl(['merge', 'Child1', '--into', 'Parent']);
    expect(r.code).toBe(0);
    expect(['a', 'b'].map((f) => readFileSync(join(p, f), 'utf8'))).toEqual(['child\n', 'parent\n']);
  });

  /**
   * Child1 changes /d/f, then deletes /d or moves it to /e, and adds /n; Parent changes /d/f
   * afterwards. Parent stays mounted; returns its mountpoint.
   */
  async function changedThenRemoved(how: 'delete' | 'move'): Promise<string> {
    mkdirSync(join(fx.base, 'd'));
    writeFileSync(join(fx.base, 'd', 'f'), 'v1\n');
    writeFileSync(join(fx.base, 'd', 'g'), 'g\n');
    await fx.init();
    await fx.ok(['create', 'Parent']);
    await fx.ok(['create', 'Child1', '--from', 'Parent']);
    const c1 = await fx.mount('Child1');
    writeFileSync(join(c1, 'd', 'f'), 'child\n');
    if (how === 'delete') rmSync(join(c1, 'd'), { recursive: true });
    else renameSync(join(c1, 'd'), join(c1, 'e'));
    writeFileSync(join(c1, 'n'), 'n\n');
    await fx.umount('Child1');
    const p = await fx.mount('Parent');
    writeFileSync(join(p, 'd', 'f'), 'parent\n');
    return p;
  }

  it('a file Parent changed inside a directory Child1 deleted conflicts; --on-conflict parent keeps the directory', async () => {
    const p = await changedThenRemoved('delete');
    const r = await fx.ctl(['merge', 'Child1', '--into', 'Parent']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('/d/f  (removed with /d by "Child1")');
    expect(readFileSync(join(p, 'd', 'f'), 'utf8')).toBe('parent\n');
    const kept = await fx.ctl(['merge', 'Child1', '--into', 'Parent', '--on-conflict', 'parent']);
    expect(kept.stderr).toBe('');
    expect(kept.code).toBe(0);
    expect(['d/f', 'd/g', 'n'].map((f) => readFileSync(join(p, f), 'utf8'))).toEqual(['parent\n', 'g\n', 'n\n']);
  });

  it('a file Parent changed inside a directory Child1 moved conflicts; --on-conflict parent is refused, child takes the move', async () => {
    const p = await changedThenRemoved('move');
    const r = await fx.ctl(['merge', 'Child1', '--into', 'Parent']);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('/d/f  (removed with /d by "Child1")');
    const kept = await fx.ctl(['merge', 'Child1', '--into', 'Parent', '--on-conflict', 'parent']);
    expect(kept.code).toBe(3);
    expect(kept.stderr).toContain('/d/f  ("Child1" moved /d to /e)');
    expect(readFileSync(join(p, 'd', 'f'), 'utf8')).toBe('parent\n');
    expect((await fx.worlds()).map((w) => w.name)).toEqual(['base', 'Parent', 'Child1']);
    const taken = await fx.ctl(['merge', 'Child1', '--into', 'Parent', '--on-conflict', 'child']);
    expect(taken.code).toBe(0);
    expect(existsSync(join(p, 'd'))).toBe(false);
    expect(['e/f', 'e/g', 'n'].map((f) => readFileSync(join(p, f), 'utf8'))).toEqual(['child\n', 'g\n', 'n\n']);
  });
});
