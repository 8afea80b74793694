// The paper's file scenario from the command line: Parent holds a mail server's files; Child1 edits
// the config; Child2 patches the server and deletes an obsolete file; Child3 (from Child1 and
// Child2) sees both and adds a note. Deleting Child3 leaves Parent as it was; merging it brings
// exactly the three worlds' changes into Parent, visible at once in Parent's live mount; the
// merged worlds' other children are re-parented onto Parent with not one visible file changed.
import { existsSync, mkdirSync, readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeTree } from '../helpers/tree.js';
import { viewDiff, WorldsFixture, type View } from '../helpers/worldctl.js';

let fx: WorldsFixture;

afterEach(async () => {
  await fx.cleanup();
});

/** Parent with the server's files, Child1 and Child2 with their changes (made through mounts). */
async function paperWorlds(): Promise<void> {
  writeFileSync(join(fx.base, 'README'), 'base system\n');
  mkdirSync(join(fx.base, 'etc'));
  writeFileSync(join(fx.base, 'etc', 'hosts'), '127.0.0.1 localhost\n');
  await fx.init();
  await fx.ok(['create', 'Parent']);
  const p = await fx.mount('Parent');
  mkdirSync(join(p, 'srv'));
  writeFileSync(join(p, 'srv', 'mail.conf'), 'port=2525\nbanner=old\n');
  writeFileSync(join(p, 'srv', 'server.sh'), 'echo serving\n');
  writeFileSync(join(p, 'srv', 'obsolete.txt'), 'to be removed by a patch\n');
  await fx.umount('Parent');

  await fx.ok(['create', 'Child1', '--from', 'Parent']);
  const c1 = await fx.mount('Child1');
  writeFileSync(join(c1, 'srv', 'mail.conf'), 'port=2526\nbanner=new\n');
  await fx.umount('Child1');

  await fx.ok(['create', 'Child2', '--from', 'Parent']);
  const c2 = await fx.mount('Child2');
  writeFileSync(join(c2, 'srv', 'server.sh'), 'echo patched serving\n');
  unlinkSync(join(c2, 'srv', 'obsolete.txt'));
  await fx.umount('Child2');
}

/** Child3 from Child1 and Child2, with a note of its own; returns its mountpoint (left mounted). */
async function child3(): Promise<string> {
  await fx.ok(['create', 'Child3', '--from', 'Child1', '--from', 'Child2']);
  const c3 = await fx.mount('Child3');
  writeFileSync(join(c3, 'srv', 'NOTES'), 'tested with the new config and the patched server\n');
  return c3;
}

describe('the paper\'s scenario through worldctl', () => {
  beforeEach(() => {
    fx = WorldsFixture.make('worldos-e2e-paper-');
  });

  it('Child3 sees both parents\' changes, ls shows only its own, and deleting it leaves Parent untouched', async () => {
    await paperWorlds();
    const parentBefore = await fx.viewOf('Parent');
    const c3 = await child3();
    expect(readFileSync(join(c3, 'srv', 'mail.conf'), 'utf8')).toBe('port=2526\nbanner=new\n');
    expect(readFileSync(join(c3, 'srv', 'server.sh'), 'utf8')).toBe('echo patched serving\n');
    expect(existsSync(join(c3, 'srv', 'obsolete.txt'))).toBe(false);
    expect(readdirSync(join(c3, 'srv')).sort()).toEqual(['NOTES', 'mail.conf', 'server.sh']);
    expect(readFileSync(join(c3, 'etc', 'hosts'), 'utf8')).toBe('127.0.0.1 localhost\n');

    const ls = await fx.ctl(['ls', 'Child3']);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toBe(`world Child3 (w4), from Child1, Child2, mounted at ${c3}\nfiles:\n  A /srv/NOTES\nprocesses: none\n`);
    const ls1 = await fx.ctl(['ls', 'Child1']);
    expect(ls1.stdout).toContain('files:\n  M /srv/mail.conf\nprocesses');
    const ls2 = (await fx.ctl(['ls', 'Child2'])).stdout.split('\n').filter((l) => /^ {2}[AMD] /.test(l)).sort();
    expect(ls2).toEqual(['  D /srv/obsolete.txt', '  M /srv/server.sh']);

    const del = await fx.ctl(['delete', 'Child3']);
    expect(del).toEqual({ code: 0, stdout: 'deleted 1 world\n', stderr: '' });
    expect((await fx.worlds()).map((w) => w.name)).toEqual(['base', 'Parent', 'Child1', 'Child2']);
    expect(viewDiff(parentBefore, await fx.viewOf('Parent'))).toEqual([]);
    expect(readFileSync(join(fx.home, 'worlds', 'w2', 'layer', 'srv', 'mail.conf'), 'utf8')).toBe('port=2526\nbanner=new\n');
  });

  it('a recreated Child3 merged into a mounted Parent brings exactly the three worlds\' changes, at once', async () => {
    await paperWorlds();
    await child3();
    await fx.umount('Child3');
    expect((await fx.ctl(['delete', 'Child3'])).code).toBe(0);
    const c3 = await child3();
    expect((await fx.worlds()).find((w) => w.name === 'Child3')!.id).toBe('w5');
    const child3View = describeTree(c3);
    await fx.umount('Child3');
    const p = await fx.mount('Parent');
    const parentBefore = describeTree(p);

    const r = await fx.ctl(['merge', 'Child3', '--into', 'Parent']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('merged "Child2", "Child1", "Child3" into "Parent"\n');

    // The live mount shows the result as soon as the command returned.
    const parentAfter = describeTree(p);
    expect(viewDiff(child3View, parentAfter)).toEqual([]);
    const changed = Object.keys({ ...parentBefore, ...parentAfter })
      .filter((k) => JSON.stringify(parentBefore[k]) !== JSON.stringify(parentAfter[k])).sort();
    expect(changed).toEqual(['srv/NOTES', 'srv/mail.conf', 'srv/obsolete.txt', 'srv/server.sh']);
    expect(readFileSync(join(p, 'srv', 'mail.conf'), 'utf8')).toBe('port=2526\nbanner=new\n');

    const ws = await fx.worlds();
    expect(ws.map((w) => [w.name, w.state])).toEqual([['base', 'active'], ['Parent', 'active']]);
    expect(ws[1]!.mountpoint).toBe(p);
    expect(readdirSync(join(fx.home, 'worlds'))).toEqual(['w1']);
    expect(existsSync(join(fx.home, 'journal', 'merge.json'))).toBe(false);
    expect((await fx.ctl(['tree'])).stdout).toBe('base\n└── Parent\n');
    // The base is never written.
    expect(readdirSync(fx.base).sort()).toEqual(['README', 'etc']);
  });

  it('re-parents the merged worlds\' other children onto Parent without changing any file they see', async () => {
    await paperWorlds();
    // C4 from Child1 only: it must keep seeing the old server and the obsolete file (Child2's changes),
    // and no NOTES (Child3's), after they land in Parent. C4 changes the config itself, too.
    await fx.ok(['create', 'C4', '--from', 'Child1']);
    const c4 = await fx.mount('C4');
    writeFileSync(join(c4, 'srv', 'mail.conf'), 'port=4444\n');
    writeFileSync(join(c4, 'c4-own'), 'mine\n');
    // C5 from Child2 only: it must keep seeing the old config (Child1's change).
    await fx.ok(['create', 'C5', '--from', 'Child2']);
    const c5View = await fx.viewOf('C5');
    await child3();
    // C6 from Child3: it sees everything, and must go on seeing it.
    await fx.ok(['create', 'C6', '--from', 'Child3']);
    const c6View = await fx.viewOf('C6');
    await fx.umount('Child3');
    const c4Before: View = describeTree(c4);
    expect(c4Before['srv/obsolete.txt']).toBeDefined();

    const r = await fx.ctl(['merge', 'Child3', '--into', 'Parent']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('re-parented onto "Parent": ');
    for (const n of ['C4', 'C5', 'C6']) expect(r.stdout).toContain(`"${n}"`);

    // C4 stayed mounted (its daemon was restarted on the new stack at the same place).
    const ws = await fx.worlds();
    const byName = new Map(ws.map((w) => [w.name, w]));
    expect([...byName.keys()].sort()).toEqual(['C4', 'C5', 'C6', 'Parent', 'base']);
    for (const n of ['C4', 'C5', 'C6']) expect(byName.get(n)!.parents).toEqual([byName.get('Parent')!.id]);
    expect(byName.get('C4')!.mountpoint).toBe(c4);
    expect(viewDiff(c4Before, describeTree(c4))).toEqual([]);
    expect(readFileSync(join(c4, 'srv', 'server.sh'), 'utf8')).toBe('echo serving\n');
    expect(viewDiff(c5View, await fx.viewOf('C5'))).toEqual([]);
    expect(viewDiff(c6View, await fx.viewOf('C6'))).toEqual([]);
    // And Parent has the merge.
    const parent = await fx.viewOf('Parent');
    expect(parent['srv/NOTES']).toBeDefined();
    expect(parent['srv/obsolete.txt']).toBeUndefined();
  });
});
