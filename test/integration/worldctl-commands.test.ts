// worldctl's commands through run(argv, io) in-process (and a few through bin/worldctl as a real
// process): exit codes, stdout/stderr, and what each command leaves in the store. No FUSE here:
// commands that mount are covered in test/e2e/worlds-*.test.ts.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeRegistry } from '../../src/registry/codec.js';
import { listRecursive, WorldsFixture } from '../helpers/worldctl.js';

let fx: WorldsFixture;

beforeEach(() => {
  fx = WorldsFixture.make('worldos-ctl-cmd-');
  writeFileSync(join(fx.base, 'hello.txt'), 'hello\n');
});

afterEach(async () => {
  await fx.cleanup();
});

const registryText = () => readFileSync(join(fx.home, 'worlds.xml'), 'utf8');
const idOf = async (name: string) => (await fx.worlds()).find((w) => w.name === name)!.id;

describe('worldctl init', () => {
  it('creates the store with a base world, and refuses a second init without touching the store', async () => {
    const first = await fx.ctl(['init', '--base', fx.base]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`initialised ${fx.home} with base world "base" = ${fx.base}`);
    expect(first.stderr).toBe('');
    const before = registryText();
    const reg = decodeRegistry(before);
    expect(reg.worlds.map((w) => [w.name, w.base, w.layer])).toEqual([['base', true, fx.base]]);

    const second = await fx.ctl(['init', '--base', fx.base]);
    expect(second.code).toBe(1);
    expect(second.stdout).toBe('');
    expect(second.stderr).toMatch(/already initialised/);
    expect(registryText()).toBe(before);
  });

  it('refuses a base directory that does not exist', async () => {
    const r = await fx.ctl(['init', '--base', join(fx.root, 'missing')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(join(fx.root, 'missing'));
    expect(existsSync(join(fx.home, 'worlds.xml'))).toBe(false);
  });

  it('tells the user to run init when the store does not exist yet', async () => {
    const r = await fx.ctl(['list']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/worldctl init/);
  });
});

describe('worldctl create', () => {
  beforeEach(async () => {
    await fx.init();
  });

  it('creates a world from the base by default, with an empty layer, and prints its name and id', async () => {
    const r = await fx.ctl(['create', 'Parent']);
    expect(r).toEqual({ code: 0, stdout: 'created world "Parent" (w1)\n', stderr: '' });
    const parent = (await fx.worlds()).find((w) => w.name === 'Parent')!;
    expect(parent.parents).toEqual(['w0']);
    expect(parent.state).toBe('active');
    expect(readdirSync(join(fx.home, 'worlds', 'w1')).sort()).toEqual(['layer', 'work']);
    expect(listRecursive(join(fx.home, 'worlds', 'w1', 'layer'))).toEqual([]);
  });

  it('keeps repeated --from parents in the order given, highest priority first', async () => {
    await fx.ok(['create', 'Parent']);
    await fx.ok(['create', 'Child1', '--from', 'Parent']);
    await fx.ok(['create', 'Child2', '--from', 'Parent']);
    await fx.ok(['create', 'Child3', '--from', 'Child1', '--from', 'Child2']);
    await fx.ok(['create', 'Child4', '--from', 'Child2', '--from', 'Child1']);
    const ws = await fx.worlds();
    const id = (n: string) => ws.find((w) => w.name === n)!.id;
    expect(ws.find((w) => w.name === 'Child3')!.parents).toEqual([id('Child1'), id('Child2')]);
    expect(ws.find((w) => w.name === 'Child4')!.parents).toEqual([id('Child2'), id('Child1')]);
  });

  it('refuses parents listed in an order C3 cannot keep (an ancestor before its descendant), changing nothing', async () => {
    await fx.ok(['create', 'Parent']);
    await fx.ok(['create', 'Child1', '--from', 'Parent']);
    const before = registryText();
    const r = await fx.ctl(['create', 'Bad', '--from', 'Parent', '--from', 'Child1']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no consistent layer order/);
    expect(r.stderr, 'names are quoted once, ids replaced by names in the hint too').not.toMatch(/""|\bw\d+\b/);
    expect(registryText()).toBe(before);
    expect(readdirSync(join(fx.home, 'worlds')).sort()).toEqual(['w1', 'w2']);
  });
});

describe('worldctl list and tree', () => {
  beforeEach(async () => {
    await fx.init();
    await fx.ok(['create', 'Parent']);
    await fx.ok(['create', 'Child1', '--from', 'Parent']);
    await fx.ok(['create', 'Child2', '--from', 'Parent']);
    await fx.ok(['create', 'Child3', '--from', 'Child1', '--from', 'Child2']);
  });

  it('list prints one row per world with its parents by name', async () => {
    const r = await fx.ctl(['list']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    const rows = r.stdout.trimEnd().split('\n').map((l) => l.split(/\s{2,}/));
    expect(rows[0]).toEqual(['NAME', 'ID', 'PARENTS', 'STATE', 'PROCS', 'CREATED', 'MOUNTED AT']);
    expect(rows.slice(1).map((c) => [c[0], c[1], c[2], c[3], c[4], c[6]])).toEqual([
      ['base', 'w0', '-', 'active', '0', '-'],
      ['Parent', 'w1', 'base', 'active', '0', '-'],
      ['Child1', 'w2', 'Parent', 'active', '0', '-'],
      ['Child2', 'w3', 'Parent', 'active', '0', '-'],
      ['Child3', 'w4', 'Child1,Child2', 'active', '0', '-'],
    ]);
    for (const row of rows.slice(1)) expect(Number.isNaN(Date.parse(row[5]!))).toBe(false);
  });

  it('list --json is valid JSON describing every world', async () => {
    const r = await fx.ctl(['list', '--json']);
    expect(r.code).toBe(0);
    const ws = JSON.parse(r.stdout) as { id: string; name: string; parents: string[]; state: string; layer: string; base?: boolean }[];
    expect(ws.map((w) => [w.id, w.name, w.parents, w.state])).toEqual([
      ['w0', 'base', [], 'active'],
      ['w1', 'Parent', ['w0'], 'active'],
      ['w2', 'Child1', ['w1'], 'active'],
      ['w3', 'Child2', ['w1'], 'active'],
      ['w4', 'Child3', ['w2', 'w3'], 'active'],
    ]);
    expect(ws[0]!.base).toBe(true);
    expect(ws[0]!.layer).toBe(fx.base);
  });

  it('tree draws the DAG: a multi-parent world under its first parent, referenced under the others', async () => {
    const r = await fx.ctl(['tree']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe([
      'base',
      '└── Parent',
      '    ├── Child1',
      '    │   └── Child3  [also from Child2]',
      '    └── Child2',
      '        └── Child3  (see under Child1)',
      '',
    ].join('\n'));
  });

  it('tree --dot gives Graphviz with one edge per parent, numbered for the multi-parent world', async () => {
    const r = await fx.ctl(['tree', '--dot']);
    expect(r.code).toBe(0);
    const out = r.stdout;
    expect(out.startsWith('digraph worlds {')).toBe(true);
    expect(out.trimEnd().endsWith('}')).toBe(true);
    expect(out).toContain('"w0" [label="base", style=dashed];');
    expect(out).toContain('"w4" [label="Child3"];');
    const edges = out.split('\n').filter((l) => l.includes('->')).map((l) => l.trim());
    expect(edges.sort()).toEqual([
      '"w0" -> "w1";',
      '"w1" -> "w2";',
      '"w1" -> "w3";',
      '"w2" -> "w4" [label="1"];',
      '"w3" -> "w4" [label="2"];',
    ]);
  });

  it('tree --json is valid JSON with ids, names and ordered parents', async () => {
    const r = await fx.ctl(['tree', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([
      { id: 'w0', name: 'base', parents: [], state: 'active' },
      { id: 'w1', name: 'Parent', parents: ['w0'], state: 'active' },
      { id: 'w2', name: 'Child1', parents: ['w1'], state: 'active' },
      { id: 'w3', name: 'Child2', parents: ['w1'], state: 'active' },
      { id: 'w4', name: 'Child3', parents: ['w2', 'w3'], state: 'active' },
    ]);
  });

  it('ls of a world nobody changed reports no changes; ls --json is valid JSON', async () => {
    const r = await fx.ctl(['ls', 'Child3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('world Child3 (w4), from Child1, Child2\nfiles: no changes\nprocesses: none\n');
    const j = await fx.ctl(['ls', 'Child3', '--json']);
    expect(j.code).toBe(0);
    const parsed = JSON.parse(j.stdout) as { world: { name: string }; mountpoint: null; changes: unknown[]; processes: unknown[] };
    expect(parsed.world.name).toBe('Child3');
    expect(parsed.mountpoint).toBeNull();
    expect(parsed.changes).toEqual([]);
    expect(parsed.processes).toEqual([]);
  });

  it('ls shows a name holding a newline or a backslash quoted, one change a line; --json as it is', async () => {
    const layer = join(fx.home, 'worlds', 'w4', 'layer');
    writeFileSync(join(layer, 'two\nlines'), 'x');
    writeFileSync(join(layer, 'back\\slash'), 'x');
    writeFileSync(join(layer, 'plain name'), 'x');
    const lines = (await fx.ok(['ls', 'Child3'])).split('\n').filter((l) => l.startsWith('  A '));
    expect(lines.sort()).toEqual(['  A "/back\\\\slash"', '  A "/two\\nlines"', '  A /plain name']);
    const j = JSON.parse(await fx.ok(['ls', 'Child3', '--json'])) as { changes: { path: string }[] };
    expect(j.changes.map((c) => c.path).sort()).toEqual(['/back\\slash', '/plain name', '/two\nlines']);
  });
});

describe('worldctl delete', () => {
  beforeEach(async () => {
    await fx.init();
    await fx.ok(['create', 'Parent']);
    await fx.ok(['create', 'Child1', '--from', 'Parent']);
    await fx.ok(['create', 'Child2', '--from', 'Parent']);
    await fx.ok(['create', 'Child3', '--from', 'Child1', '--from', 'Child2']);
    await fx.ok(['create', 'Other']);
  });

  it('refuses a world with children (exit 1), naming the children, and changes nothing', async () => {
    const before = registryText();
    const r = await fx.ctl(['delete', 'Parent']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('"Child1"');
    expect(r.stderr).toContain('"Child2"');
    expect(r.stderr).toMatch(/--recursive/);
    expect(registryText()).toBe(before);
    expect(readdirSync(join(fx.home, 'worlds')).sort()).toEqual(['w1', 'w2', 'w3', 'w4', 'w5']);
  });

  it('deletes a leaf world, its directory and its registry entry', async () => {
    const r = await fx.ctl(['delete', 'Child3']);
    expect(r).toEqual({ code: 0, stdout: 'deleted 1 world\n', stderr: '' });
    expect((await fx.worlds()).map((w) => w.name)).toEqual(['base', 'Parent', 'Child1', 'Child2', 'Other']);
    expect(existsSync(join(fx.home, 'worlds', 'w4'))).toBe(false);
  });

  it('--recursive deletes the world and every descendant (a multi-parent one once), leaving the rest', async () => {
    const r = await fx.ctl(['delete', 'Parent', '--recursive']);
    expect(r).toEqual({ code: 0, stdout: 'deleted 4 worlds\n', stderr: '' });
    expect((await fx.worlds()).map((w) => w.name)).toEqual(['base', 'Other']);
    expect(readdirSync(join(fx.home, 'worlds'))).toEqual(['w5']);
    expect(decodeRegistry(registryText()).worlds).toHaveLength(2);
  });

  it('refuses to delete the base world (exit 1), even with --recursive', async () => {
    const before = registryText();
    for (const argv of [['delete', 'base'], ['delete', 'base', '--recursive']]) {
      const r = await fx.ctl(argv);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/base world/);
    }
    expect(registryText()).toBe(before);
    expect(readFileSync(join(fx.base, 'hello.txt'), 'utf8')).toBe('hello\n');
  });

  it('answers exit 5 for a world that does not exist, naming the worlds that do', async () => {
    const r = await fx.ctl(['delete', 'Nope']);
    expect(r.code).toBe(5);
    expect(r.stderr).toMatch(/no world named "Nope"/);
    expect(r.stderr).toContain('Child3');
  });
});

describe('worldctl usage errors', () => {
  it('exits 2 on an unknown command, a missing argument or a missing --into', async () => {
    await fx.init();
    await fx.ok(['create', 'A']);
    for (const argv of [['bogus'], ['create'], ['merge', 'A'], ['delete']]) {
      const r = await fx.ctl(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr, argv.join(' ')).toMatch(/error:/);
    }
  });

  it('prints help with exit 0', async () => {
    const r = await fx.ctl(['--help']);
    expect(r.code).toBe(0);
    for (const verb of ['init', 'create', 'delete', 'merge', 'ls', 'list', 'tree', 'mount', 'umount']) expect(r.stdout).toContain(verb);
  });
});

describe('bin/worldctl as a real process', () => {
  it('inits, creates, lists and deletes with the documented exit codes and streams', async () => {
    const init = await fx.bin(['init', '--base', fx.base]);
    expect(init.status).toBe(0);
    expect(init.stdout).toContain('initialised');
    expect((await fx.bin(['init', '--base', fx.base])).status).toBe(1);
    const create = await fx.bin(['create', 'Parent']);
    expect(create.status).toBe(0);
    expect(create.stdout).toBe('created world "Parent" (w1)\n');
    await fx.ok(['create', 'Child', '--from', 'Parent']);
    const bad = await fx.bin(['create', 'a/b']);
    expect(bad.status).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toMatch(/invalid world name "a\/b"/);
    const list = await fx.bin(['list', '--json']);
    expect(list.status).toBe(0);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((w) => w.name)).toEqual(['base', 'Parent', 'Child']);
    const refused = await fx.bin(['delete', 'Parent']);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('"Child"');
    expect((await fx.bin(['merge', 'Child', '--into', 'Nope'])).status).toBe(5);
    const del = await fx.bin(['delete', '-r', 'Parent']);
    expect(del.status).toBe(0);
    expect(del.stdout).toBe('deleted 2 worlds\n');
    expect((await fx.worlds()).map((w) => w.name)).toEqual(['base']);
    expect(await idOf('base')).toBe('w0');
  });
});
