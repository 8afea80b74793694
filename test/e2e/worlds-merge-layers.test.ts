// Merge semantics over layers, as a table of cases run together in one world graph per whiteout
// format: each case owns a top-level directory and says what the base holds, what Parent,
// Child1, Child2 and Child3 (from Child1 and Child2) change through their mounts, and what the
// merged Parent must show there. Child3's view is checked against the table (the oracle for the
// view itself), Parent's view after `merge Child3 --into Parent` against Child3's (every path), and
// C4 — a child of Child1 only, mounted during the merge — must see exactly what it saw before.
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mksockSync } from '../helpers/fs-ops.js';
import { describeTree } from '../helpers/tree.js';
import { viewDiff, WorldsFixture } from '../helpers/worldctl.js';

/** Entries under a directory: "dir/" for directories, "file=content", "link->target", "sock=<socket>". */
function flat(root: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const p = join(root, r);
      const st = lstatSync(p);
      if (st.isDirectory()) {
        out.push(`${r}/`);
        walk(r);
      } else if (st.isSymbolicLink()) {
        out.push(`${r}->${readlinkSync(p)}`);
      } else if (st.isSocket()) {
        out.push(`${r}=<socket>`);
      } else {
        out.push(`${r}=${readFileSync(p, 'utf8')}`);
      }
    }
  };
  walk('');
  return out.sort();
}

/** Write files (creating their directories): { 'a/b': 'content' }. */
function put(dir: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), content);
  }
}

const rmrf = (p: string) => rmSync(p, { recursive: true });
const DEEP = Array.from({ length: 30 }, (_, i) => `n${i}`).join('/');
const DEEP_LOWER = 'a/b/c/d/e/f/g/h/i/j';
const [N252, N253, N254, N255] = [252, 253, 254, 255].map((n) => 'l'.repeat(n - 1) + String(n % 10));
const dirsOf = (path: string) => path.split('/').map((_, i, a) => `${a.slice(0, i + 1).join('/')}/`);

interface LayerCase {
  readonly name: string;
  readonly base?: (d: string) => void;
  readonly parent?: (d: string) => void;
  readonly child1?: (d: string) => void;
  readonly child2?: (d: string) => void;
  readonly child3?: (d: string) => void;
  /** What the merged Parent (and Child3 before the merge) shows under the case's directory. */
  readonly expected: readonly string[];
}

const CASES: readonly LayerCase[] = [
  {
    name: 'a renamed directory spanning the base and Parent keeps every lower entry under its new name',
    base: (d) => put(d, { 'd/a': 'a', 'd/sub/c': 'c' }),
    parent: (d) => put(d, { 'd/p': 'p', 'd/sub/q': 'q' }),
    child1: (d) => renameSync(join(d, 'd'), join(d, 'e')),
    expected: ['e/', 'e/a=a', 'e/p=p', 'e/sub/', 'e/sub/c=c', 'e/sub/q=q'],
  },
  {
    name: 'a base directory renamed into a new directory tree',
    base: (d) => put(d, { 'd/x': 'x', 'd/deep/y': 'y' }),
    child1: (d) => { mkdirSync(join(d, 'n', 'm'), { recursive: true }); renameSync(join(d, 'd'), join(d, 'n', 'm', 'd2')); },
    expected: ['n/', 'n/m/', 'n/m/d2/', 'n/m/d2/deep/', 'n/m/d2/deep/y=y', 'n/m/d2/x=x'],
  },
  {
    name: 'a directory renamed and edited in Child1, then edited and renamed again in Child3',
    base: (d) => put(d, { 'd/f': 'f', 'd/g': 'g' }),
    parent: (d) => put(d, { 'd/h': 'h' }),
    child1: (d) => { renameSync(join(d, 'd'), join(d, 'e')); writeFileSync(join(d, 'e', 'f'), 'F1'); },
    child3: (d) => { unlinkSync(join(d, 'e', 'g')); writeFileSync(join(d, 'e', 'i'), 'i'); renameSync(join(d, 'e'), join(d, 'e2')); },
    expected: ['e2/', 'e2/f=F1', 'e2/h=h', 'e2/i=i'],
  },
  {
    name: 'rm -rf of a directory spanning the base and Parent',
    base: (d) => put(d, { 'd/a': 'a', 'd/sub/b': 'b', keep: 'k' }),
    parent: (d) => put(d, { 'd/p': 'p', 'd/sub/q': 'q' }),
    child1: (d) => rmrf(join(d, 'd')),
    expected: ['keep=k'],
  },
  {
    name: 'a directory deleted and made again (opaque) hides every lower entry',
    base: (d) => put(d, { 'd/a': 'a', 'd/sub/b': 'b' }),
    parent: (d) => put(d, { 'd/p': 'p' }),
    child1: (d) => { rmrf(join(d, 'd')); put(d, { 'd/new': 'n' }); },
    expected: ['d/', 'd/new=n'],
  },
  {
    name: 'a file replaced by a directory',
    base: (d) => put(d, { x: 'file' }),
    child1: (d) => { unlinkSync(join(d, 'x')); put(d, { 'x/inside': 'i' }); },
    expected: ['x/', 'x/inside=i'],
  },
  {
    name: 'a directory replaced by a file',
    base: (d) => put(d, { 'x/a': 'a', 'x/sub/b': 'b' }),
    parent: (d) => put(d, { 'x/p': 'p' }),
    child1: (d) => { rmrf(join(d, 'x')); writeFileSync(join(d, 'x'), 'now a file'); },
    expected: ['x=now a file'],
  },
  {
    name: 'deep trees: a new 30-level tree and a file changed 10 levels down in the base',
    base: (d) => put(d, { [`${DEEP_LOWER}/file`]: 'old', [`${DEEP_LOWER}/same`]: 'same' }),
    child1: (d) => put(d, { [`${DEEP_LOWER}/file`]: 'new', [`${DEEP}/leaf`]: 'leaf' }),
    expected: [
      ...dirsOf(DEEP_LOWER), `${DEEP_LOWER}/file=new`, `${DEEP_LOWER}/same=same`,
      ...dirsOf(DEEP), `${DEEP}/leaf=leaf`,
    ].sort(),
  },
  {
    name: 'changes by Child2 only: a renamed Parent directory, a changed file, a directory replaced by a file',
    base: (d) => put(d, { 'd/a': 'a', f: 'f', 't/x': 'x' }),
    parent: (d) => put(d, { 'd/p': 'p' }),
    child2: (d) => { renameSync(join(d, 'd'), join(d, 'd2')); writeFileSync(join(d, 'f'), 'f2'); rmrf(join(d, 't')); writeFileSync(join(d, 't'), 't-file'); },
    expected: ['d2/', 'd2/a=a', 'd2/p=p', 'f=f2', 't=t-file'],
  },
  {
    name: 'the same file changed by Child1 and Child2: Child3 lists Child1 first, so Child1\'s wins',
    base: (d) => put(d, { same: 'base' }),
    child1: (d) => put(d, { same: 'c1' }),
    child2: (d) => put(d, { same: 'c2', other2: 'c2' }),
    expected: ['other2=c2', 'same=c1'],
  },
  {
    name: 'a chmod, a new symlink and a file moved between directories',
    base: (d) => put(d, { a: 'a', 'm/f': 'f' }),
    child1: (d) => { chmodSync(join(d, 'a'), 0o600); symlinkSync('a', join(d, 'link')); mkdirSync(join(d, 'o')); renameSync(join(d, 'm', 'f'), join(d, 'o', 'g')); },
    expected: ['a=a', 'link->a', 'm/', 'o/', 'o/g=f'],
  },
  {
    name: 'socket nodes: made in Child1 and Child3, a base one renamed and chmod\'ed in Child1 (copied up as a socket)',
    base: (d) => mksockSync(join(d, 'bs'), 0o755),
    child1: (d) => { mksockSync(join(d, 's1'), 0o600); mkdirSync(join(d, 'm')); renameSync(join(d, 'bs'), join(d, 'm', 'bs2')); chmodSync(join(d, 'm', 'bs2'), 0o700); },
    child3: (d) => mksockSync(join(d, 'm', 's3'), 0o640),
    expected: ['m/', 'm/bs2=<socket>', 'm/s3=<socket>', 's1=<socket>'],
  },
  {
    name: 'names of 252-255 bytes (aufs: hashed whiteouts): base ones deleted, a base directory made again, new ones',
    base: (d) => put(d, { [N255]: 'b', [`${N252}/a`]: 'a', [N254]: 'c', keep: 'k' }),
    child1: (d) => { unlinkSync(join(d, N255)); rmrf(join(d, N252)); put(d, { [`${N252}/new`]: 'new', [N253]: 'n' }); },
    child3: (d) => unlinkSync(join(d, N254)),
    expected: [`${N252}/`, `${N252}/new=new`, `${N253}=n`, 'keep=k'],
  },
];

const dirName = (i: number) => `case${String(i).padStart(2, '0')}`;

async function inWorld(fx: WorldsFixture, world: string, step: (c: LayerCase) => ((d: string) => void) | undefined): Promise<void> {
  const mnt = await fx.mount(world);
  CASES.forEach((c, i) => {
    const d = join(mnt, dirName(i));
    mkdirSync(d, { recursive: true });
    step(c)?.(d);
  });
  await fx.umount(world);
}

describe.each(['aufs', 'overlay'])('merge over layers (%s whiteouts)', (whiteout) => {
  let fx: WorldsFixture;
  beforeEach(() => {
    fx = WorldsFixture.make('worldos-e2e-layers-');
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  it('folds every case into Parent as Child3 saw it, and C4 (from Child1 only) sees nothing change', async () => {
    CASES.forEach((c, i) => {
      const d = join(fx.base, dirName(i));
      mkdirSync(d);
      c.base?.(d);
    });
    writeFileSync(join(fx.base, 'untouched'), 'u');
    await fx.ok(['init', '--base', fx.base, '--whiteout', whiteout]);
    await fx.ok(['create', 'Parent']);
    await inWorld(fx, 'Parent', (c) => c.parent);
    await fx.ok(['create', 'Child1', '--from', 'Parent']);
    await inWorld(fx, 'Child1', (c) => c.child1);
    await fx.ok(['create', 'Child2', '--from', 'Parent']);
    await inWorld(fx, 'Child2', (c) => c.child2);
    await fx.ok(['create', 'Child3', '--from', 'Child1', '--from', 'Child2']);
    await inWorld(fx, 'Child3', (c) => c.child3);
    await fx.ok(['create', 'C4', '--from', 'Child1']);

    const c3 = await fx.mount('Child3');
    const child3View = describeTree(c3);
    const perCase = CASES.map((_, i) => flat(join(c3, dirName(i))));
    await fx.umount('Child3');
    // The oracle for the view itself: Child3 shows what the table says.
    CASES.forEach((c, i) => expect(perCase[i], c.name).toEqual([...c.expected].sort()));

    const c4 = await fx.mount('C4');
    writeFileSync(join(c4, 'c4-own'), 'mine');
    const c4Before = describeTree(c4);
    const p = await fx.mount('Parent');

    const r = await fx.ctl(['merge', 'Child3', '--into', 'Parent']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('merged "Child2", "Child1", "Child3" into "Parent"\nre-parented onto "Parent": "C4"\n');

    const parentAfter = describeTree(p);
    CASES.forEach((c, i) => expect(flat(join(p, dirName(i))), c.name).toEqual([...c.expected].sort()));
    expect(viewDiff(child3View, parentAfter)).toEqual([]);
    expect(viewDiff(c4Before, describeTree(c4))).toEqual([]);
    const ws = await fx.worlds();
    expect(ws.map((w) => w.name)).toEqual(['base', 'Parent', 'C4']);
    expect(ws[2]!.parents).toEqual([ws[1]!.id]);
    expect(readdirSync(join(fx.home, 'journal'))).toEqual([]);
  });
});

describe('a directory an intermediate world added to, replaced further down', () => {
  let fx: WorldsFixture;
  beforeEach(() => {
    fx = WorldsFixture.make('worldos-e2e-layers-');
  });
  afterEach(async () => {
    await fx.cleanup();
  });

  // Parent never changed /d: the record of what Child3 saw there (Child1's copy of /d) is not a
  // change of the ancestor, so this is no conflict.
  it.each([
    ['deleted', (d: string) => rmrf(join(d, 'd')), ['keep=k']],
    ['made again empty (opaque)', (d: string) => { rmrf(join(d, 'd')); put(d, { 'd/z': 'z' }); }, ['d/', 'd/z=z', 'keep=k']],
  ] as const)('merges without a conflict when Child3 has the directory %s', async (_, act, expected) => {
    put(fx.base, { 'd/a': 'a', keep: 'k' });
    await fx.init();
    await fx.ok(['create', 'Parent']);
    await fx.ok(['create', 'Child1', '--from', 'Parent']);
    put(await fx.mount('Child1'), { 'd/b': 'b' });
    await fx.umount('Child1');
    await fx.ok(['create', 'Child3', '--from', 'Child1']);
    act(await fx.mount('Child3'));
    await fx.umount('Child3');
    const r = await fx.ctl(['merge', 'Child3', '--into', 'Parent']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(flat(await fx.mount('Parent'))).toEqual(expected);
  });
});

describe('a Unix-domain socket bound in a world', () => {
  let fx: WorldsFixture;
  let server: Server | undefined;
  beforeEach(() => {
    fx = WorldsFixture.make('worldos-e2e-layers-');
  });
  afterEach(async () => {
    if (server) await new Promise((r) => server!.close(r));
    server = undefined;
    await fx.cleanup();
  });

  it('serves through the view, is listed by worldctl ls, and a merge moves it into the parent as a socket', async () => {
    put(fx.base, { 'run/keep': 'k' });
    await fx.init();
    await fx.ok(['create', 'Parent']);
    await fx.ok(['create', 'Child', '--from', 'Parent']);
    const mnt = await fx.mount('Child');
    server = createServer((c) => c.on('data', (d) => c.end(`echo ${String(d)}`)));
    server.listen(join(mnt, 'run', 'app.sock'));
    await once(server, 'listening');
    const answer = await new Promise<string>((res, rej) => {
      const c = createConnection(join(mnt, 'run', 'app.sock'), () => c.write('hi'));
      let got = '';
      c.on('data', (d) => { got += String(d); });
      c.on('end', () => res(got));
      c.on('error', rej);
    });
    expect(answer).toBe('echo hi');
    // A socket whose process is gone stays (bound by python3, which exits without unlinking it).
    expect(spawnSync('python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', join(mnt, 'run', 'left.sock')]).status).toBe(0);
    const ls = await fx.ctl(['ls', 'Child']);
    expect(ls.stdout).toContain('files:\n  A /run/app.sock\n  A /run/left.sock\nprocesses');
    const changes = (JSON.parse((await fx.ctl(['ls', 'Child', '--json'])).stdout) as { changes: unknown[] }).changes;
    expect(changes).toEqual([
      { path: '/run/app.sock', change: 'added', type: 'socket' },
      { path: '/run/left.sock', change: 'added', type: 'socket' },
    ]);
    await new Promise((r) => server!.close(r)); // Node unlinks the socket it bound
    server = undefined;
    await fx.umount('Child');

    const r = await fx.ctl(['merge', 'Child', '--into', 'Parent']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const p = await fx.mount('Parent');
    expect(flat(join(p, 'run'))).toEqual(['keep=k', 'left.sock=<socket>']);
    expect((await fx.ctl(['ls', 'Parent'])).stdout).toContain('files:\n  A /run/left.sock\nprocesses');
    await fx.umount('Parent');
  });
});
