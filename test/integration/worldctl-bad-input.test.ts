// Bad input to worldctl: each case gets a clear message, a non-zero exit code, and loses nothing
// (the registry file is byte-for-byte the same, every world directory is still there).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountsUnder } from '../helpers/procs.js';
import { listRecursive, WorldsFixture } from '../helpers/worldctl.js';

let fx: WorldsFixture;
const registryFile = () => join(fx.home, 'worlds.xml');

beforeEach(async () => {
  fx = WorldsFixture.make('worldos-ctl-bad-');
  writeFileSync(join(fx.base, 'base.txt'), 'base\n');
  await fx.init();
  await fx.ok(['create', 'Parent']);
  await fx.ok(['create', 'Child', '--from', 'Parent']);
  await fx.ok(['create', 'Other']);
  writeFileSync(join(fx.home, 'worlds', 'w2', 'layer', 'child.txt'), 'child\n');
});

afterEach(async () => {
  await fx.cleanup();
});

/** Everything a failed command must leave as it was. */
function storeState(): { registry: string; files: string[]; base: string[] } {
  return { registry: readFileSync(registryFile(), 'utf8'), files: listRecursive(join(fx.home, 'worlds')), base: listRecursive(fx.base) };
}

/** Run a command expected to fail; returns its result after checking that nothing changed. */
async function refused(argv: string[], code: number, message: RegExp): Promise<void> {
  const before = storeState();
  const r = await fx.ctl(argv);
  expect(r.code, `${JSON.stringify(argv)}: ${r.stderr}`).toBe(code);
  expect(r.stdout, JSON.stringify(argv)).toBe('');
  expect(r.stderr, JSON.stringify(argv)).toMatch(message);
  expect(storeState(), JSON.stringify(argv)).toEqual(before);
}

describe('world names', () => {
  const BAD: readonly [string, string, RegExp][] = [
    ['with a slash', 'a/b', /contains "\/" at position 2/],
    ['".."', '..', /means a directory/],
    ['"."', '.', /means a directory/],
    ['with a space', 'my world', /a space \(U\+0020\) at position 3/],
    ['with a newline', 'a\nb', /a newline \(U\+000A\) at position 2/],
    ['with a tab', 'a\tb', /a tab/],
    ['with a zero-width space', 'a\u200bb', /invisible formatting character/],
    ['that is empty', '', /it is empty/],
    ['of 300 characters', 'x'.repeat(300), /300 characters long, more than 64/],
    ['starting with "-"', '-rf', /starts with "-"/],
    ['starting with "."', '.hidden', /starts with "\."/],
  ];

  it.each(BAD)('refuses a name %s with exit 2 and the rules', async (_, name, why) => {
    await refused(['create', '--', name], 2, why);
    await refused(['create', '--', name], 2, /a name is 1 to 64 printable characters/);
  });

  it('refuses a node budget worldfs would not take, exit 2', async () => {
    for (const bad of ['12', 'lots', '-1', '2.5']) {
      await refused(['create', 'New', '--nodes', bad], 2, /--nodes <n>.*expected 0 \(no bound\) or a whole number of nodes from 1024/);
    }
  });

  it('refuses a duplicate name (also one written in another Unicode normal form), exit 1', async () => {
    await refused(['create', 'Parent'], 1, /a world named "Parent" already exists/);
    await fx.ok(['create', 'caf\u00e9']);
    await refused(['create', 'cafe\u0301'], 1, /already exists/);
  });

  it('accepts unicode names: create, list, tree, ls, a child of it, delete', async () => {
    const name = 'héllo-世界-🌍';
    const r = await fx.ctl(['create', name]);
    expect(r).toEqual({ code: 0, stdout: `created world "${name}" (w4)\n`, stderr: '' });
    expect(await fx.ok(['create', 'kid', '--from', name])).toContain('"kid"');
    expect((await fx.worlds()).map((w) => w.name)).toContain(name);
    expect((await fx.ok(['list'])).split('\n').find((l) => l.startsWith('kid '))!.split(/\s+/).slice(0, 3)).toEqual(['kid', 'w5', name]);
    expect(await fx.ok(['tree'])).toContain(`└── ${name}\n    └── kid\n`);
    expect(await fx.ok(['ls', name])).toBe(`world ${name} (w4), from base\nfiles: no changes\nprocesses: none\n`);
    expect(await fx.ok(['ls', 'he\u0301llo-世界-🌍'])).toContain(`world ${name} (w4)`);
    expect(readFileSync(registryFile(), 'utf8')).toContain(`name="${name}"`);
    expect(await fx.ok(['delete', '-r', name])).toBe('deleted 2 worlds\n');
    expect((await fx.worlds()).map((w) => w.name)).toEqual(['base', 'Parent', 'Child', 'Other']);
  });
});

describe('worlds that do not exist or do not fit', () => {
  it('refuses a parent that does not exist (exit 5), naming the worlds that do', async () => {
    await refused(['create', 'New', '--from', 'Nope'], 5, /no world named "Nope"; existing worlds: base, Parent, Child, Other/);
    await refused(['create', 'New', '--from', 'Parent', '--from', 'Nope'], 5, /no world named "Nope"/);
  });

  it('refuses a parent listed twice', async () => {
    await refused(['create', 'New', '--from', 'Parent', '--from', 'Parent'], 1, /lists parent "Parent" twice/);
  });

  it('refuses to merge into a world that is not an ancestor (a sibling, a child), exit 1', async () => {
    await refused(['merge', 'Child', '--into', 'Other'], 1, /"Other" is not an ancestor of "Child"; its ancestors are "Parent", "base"/);
    await refused(['merge', 'Parent', '--into', 'Child'], 1, /"Child" is not an ancestor of "Parent"/);
  });

  it('refuses to merge a world into itself, into the base, or the base into anything', async () => {
    await refused(['merge', 'Child', '--into', 'Child'], 1, /into itself/);
    await refused(['merge', 'Child', '--into', 'base'], 1, /cannot merge into "base"/);
    await refused(['merge', 'base', '--into', 'Parent'], 1, /base world; it has nothing to merge/);
  });

  it('refuses to merge or delete worlds that do not exist (exit 5)', async () => {
    await refused(['merge', 'Nope', '--into', 'Parent'], 5, /no world named "Nope"/);
    await refused(['merge', 'Child', '--into', 'Nope'], 5, /no world named "Nope"/);
    await refused(['delete', 'Nope'], 5, /no world named "Nope"/);
    await refused(['ls', 'Nope'], 5, /no world named "Nope"/);
  });

  it('refuses to delete the base (exit 1)', async () => {
    await refused(['delete', 'base'], 1, /"base" is the base world.*cannot be deleted/);
    await refused(['delete', '--recursive', 'base'], 1, /cannot be deleted/);
  });

  it('refuses --on-conflict bogus as a usage error (exit 2), listing the choices', async () => {
    await refused(['merge', 'Child', '--into', 'Parent', '--on-conflict', 'bogus'], 2, /Allowed choices are fail, child, parent/);
  });

  it('refuses an unknown whiteout format at init (exit 1) and writes no store', async () => {
    const home = join(fx.root, 'other-home');
    const r = await fx.ctl(['init', '--base', fx.base, '--whiteout', 'bogus'], home);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/bogus/);
    expect(existsSync(join(home, 'worlds.xml'))).toBe(false);
  });
});

describe('a corrupted worlds.xml', () => {
  // worlds.xml as written by this store: line 5 is Parent's <parent ref="w0"/>, line 8 Child's.
  const CORRUPTIONS: readonly [string, (good: string) => string, RegExp][] = [
    ['an unclosed element', (g) => edit(g, 5, () => '    <parent ref="w0">'), /line 6: malformed XML/],
    ['a parent that names no world', (g) => edit(g, 8, () => '    <parent ref="w9"/>'), /line 8: .*parent ref "w9" names no world/],
    ['an unknown state', (g) => edit(g, 7, (l) => l.replace('state="active"', 'state="weird"')), /line 7: .*state="weird"/],
    ['a truncated file', (g) => g.slice(0, Math.floor(g.length / 2)), /line \d+: malformed XML/],
    ['an empty file', () => '', /line 1: malformed XML/],
  ];

  it.each(CORRUPTIONS)('is refused with its line (%s) by every command, and never rewritten', async (_, corrupt, message) => {
    const good = readFileSync(registryFile(), 'utf8');
    expect(good.split('\n')[4]).toBe('    <parent ref="w0"/>');
    expect(good.split('\n')[7]).toBe('    <parent ref="w1"/>');
    writeFileSync(registryFile(), corrupt(good));
    for (const argv of [['list'], ['tree'], ['create', 'New'], ['delete', 'Child'], ['merge', 'Child', '--into', 'Parent'], ['ls', 'Child'], ['init', '--base', fx.base]]) {
      await refused(argv, 1, message);
      await refused(argv, 1, new RegExp(`${registryFile().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: registry is corrupt`));
    }
  });
});

function edit(text: string, line: number, f: (l: string) => string): string {
  return text.split('\n').map((l, i) => (i === line - 1 ? f(l) : l)).join('\n');
}

describe('a store on a read-only filesystem', () => {
  it.each([
    ['a home that does not exist yet', false],
    ['an existing empty home', true],
  ] as const)('init on a read-only tmpfs (%s) fails with a clear message and exit 1', async (_, homeExists) => {
    const ro = join(fx.root, 'ro');
    const home = join(ro, 'home');
    mkdirSync(ro);
    expect(spawnSync('mount', ['-t', 'tmpfs', 'tmpfs', ro]).status).toBe(0);
    try {
      if (homeExists) mkdirSync(home);
      expect(spawnSync('mount', ['-o', 'remount,ro', ro]).status).toBe(0);
      const r = await fx.ctl(['init', '--base', fx.base], home);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/read-only filesystem/);
      expect(r.stderr).not.toMatch(/unexpected error/);
      expect(readdirSync(ro)).toEqual(homeExists ? ['home'] : []);
    } finally {
      spawnSync('umount', [ro]);
    }
    expect(mountsUnder(ro)).toEqual([]);
  });

  it('refuses create, delete and merge on a store remounted read-only (exit 1), still lists, loses nothing', async () => {
    const before = storeState();
    expect(spawnSync('mount', ['--bind', fx.home, fx.home]).status).toBe(0);
    try {
      expect(spawnSync('mount', ['-o', 'remount,bind,ro', fx.home]).status).toBe(0);
      for (const argv of [['create', 'New'], ['delete', 'Child'], ['delete', '-r', 'Parent'], ['merge', 'Child', '--into', 'Parent']]) {
        const r = await fx.ctl(argv);
        expect(r.code, `${argv.join(' ')}: ${r.stderr}`).toBe(1);
        expect(r.stderr, argv.join(' ')).toMatch(/read-only filesystem/);
      }
      const list = await fx.ctl(['list', '--json']);
      expect(list.code, list.stderr).toBe(0);
      expect((JSON.parse(list.stdout) as { name: string }[]).map((w) => w.name)).toEqual(['base', 'Parent', 'Child', 'Other']);
      expect((await fx.ctl(['ls', 'Child'])).stdout).toContain('A /child.txt');
    } finally {
      spawnSync('umount', [fx.home]);
    }
    expect(mountsUnder(fx.home)).toEqual([]);
    expect(storeState()).toEqual(before);
    expect(await fx.ok(['create', 'New'])).toContain('"New"');
  });
});
