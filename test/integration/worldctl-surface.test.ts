// worldctl's surface (issue 15): --help and --version, the generated manual pages and bash
// completion (checked against the commander program, so neither can drift), --json on the
// commands that change the graph, and `diff` / `ls` with path filters. No FUSE: a world's changes
// are written straight into its layer, as its view would write them (aufs whiteouts).
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { manPages } from '../../cli/man-pages.js';
import { buildProgram } from '../../cli/program.js';
import { describeTree } from '../helpers/tree.js';
import { REPO, WORLDCTL, WorldsFixture } from '../helpers/worldctl.js';

let fx: WorldsFixture;
const program = buildProgram({ stdout: () => {}, stderr: () => {}, env: {} });
const commandNames = program.commands.map((c) => c.name());
const layer = (id: string) => join(fx.home, 'worlds', id, 'layer');
const pkgVersion = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version;

beforeEach(() => {
  fx = WorldsFixture.make('worldos-ctl-surface-');
});

afterEach(async () => {
  await fx.cleanup();
});

describe('worldctl --help and --version', () => {
  it('--help lists every command on one line of at most 80 columns, with its summary', async () => {
    const r = await fx.ctl(['--help']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    const start = lines.indexOf('Commands:');
    expect(start).toBeGreaterThan(0);
    const rows = lines.slice(start + 1).filter((l) => l.trim() !== '');
    for (const row of rows) expect(row.length, row).toBeLessThanOrEqual(80);
    // Each row is "  NAME [ARGS]  SUMMARY": one per command, no continuation lines.
    expect(rows.map((l) => /^ {2}(\S+)/.exec(l)?.[1])).toEqual([...commandNames, 'help']);
    for (const row of rows) expect(row, row).toMatch(/^ {2}\S.*\S {2,}\S/);
  });

  it('--version prints package.json\'s version, in-process (tsc output) and from the bundle', async () => {
    expect(await fx.ctl(['--version'])).toEqual({ code: 0, stdout: `${pkgVersion}\n`, stderr: '' });
    const r = spawnSync(WORLDCTL, ['--version'], { encoding: 'utf8' });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, `${pkgVersion}\n`, '']);
  });
});

describe('manual pages', () => {
  const pages = manPages(REPO);

  it('the build generated dist/man from the code as it is now', () => {
    for (const [file, text] of Object.entries(pages)) expect(readFileSync(join(REPO, 'dist', 'man', file), 'utf8'), file).toBe(text);
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { man: string[] };
    expect(pkg.man.map((m) => m.replace(/^\.\//, ''))).toEqual(Object.keys(pages).map((f) => `dist/man/${f}`));
  });

  it('worldctl(1) has a section for every command, with every option and argument', () => {
    const page = pages['worldctl.1']!;
    for (const c of program.commands) {
      expect(page).toContain(`.SS \\fBworldctl ${c.name()} `);
      for (const o of c.options) expect(page, `${c.name()} ${o.flags}`).toContain(`\\fB${o.flags.replace(/-/g, '\\-')}\\fR`);
      for (const a of c.registeredArguments) expect(page, `${c.name()} ${a.name()}`).toContain(`\\fI${a.name().replace(/-/g, '\\-')}`);
    }
  });

  it('worldfs(1) names every -o option the parser accepts', () => {
    const source = readFileSync(join(REPO, 'fs', 'options.ts'), 'utf8');
    const keys = [...source.matchAll(/case '([a-z_]+)':/g)].map((m) => m[1]!);
    expect(keys.length).toBeGreaterThan(15);
    // Set by worldctl for its own daemons only, not options a user passes.
    const internal = new Set(['stack', 'fsname', 'noallow_other']);
    for (const k of keys.filter((x) => !internal.has(x))) expect(pages['worldfs.1'], k).toContain(k.replace(/-/g, '\\-'));
  });

  it('both pages render with man(7) macros and no groff warnings', () => {
    for (const file of Object.keys(pages)) {
      const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z', join(REPO, 'dist', 'man', file)], { encoding: 'utf8' });
      expect([r.status, r.stderr], file).toEqual([0, '']);
    }
  });
});

describe('bash completion', () => {
  let scriptText = '';
  beforeAll(() => {
    scriptText = spawnSync(WORLDCTL, ['completion', 'bash'], { encoding: 'utf8' }).stdout;
  });
  beforeEach(async () => {
    await fx.init();
    await fx.ok(['create', 'alpha']);
    await fx.ok(['create', 'beta', '--from', 'alpha']);
  });

  /** What bash completes for the words (the last one being completed), through the generated script. */
  function complete(...words: string[]): string[] {
    const script = join(fx.root, 'completion.bash');
    writeFileSync(script, scriptText);
    const argv = [WORLDCTL, '--home', fx.home, ...words];
    const r = spawnSync('bash', ['-c', `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _worldctl; printf '%s\\n' "\${COMPREPLY[@]}"`,
      'bash', script, ...argv], { encoding: 'utf8', timeout: 60_000 });
    expect(r.stderr).toBe('');
    return r.stdout.split('\n').filter(Boolean).sort();
  }

  it('registers itself for worldctl with complete -F', () => {
    const r = spawnSync('bash', ['-c', 'eval "$1"; complete -p worldctl', 'bash', scriptText], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe('complete -F _worldctl worldctl');
  });

  it('completes every command name, and each command\'s options', () => {
    expect(complete('')).toEqual([...commandNames].sort());
    expect(complete('me')).toEqual(['merge']);
    for (const c of program.commands) {
      const flags = c.options.flatMap((o) => [o.long, o.short]).filter((f): f is string => !!f);
      expect(complete(c.name(), '-'), c.name()).toEqual([...flags, '--help'].sort());
    }
  });

  it('completes world names where a world is expected, and choices where the option has them', () => {
    expect(complete('delete', '')).toEqual(['alpha', 'base', 'beta']);
    expect(complete('ls', 'al')).toEqual(['alpha']);
    expect(complete('create', 'new', '--from', 'b')).toEqual(['base', 'beta']);
    expect(complete('merge', 'beta', '--into', '')).toEqual(['alpha', 'base', 'beta']);
    expect(complete('merge', 'beta', '--on-conflict', '')).toEqual(['child', 'fail', 'parent']);
    expect(complete('completion', '')).toEqual(['bash']);
    // Not a world: the new world's name, and the command after run's world.
    expect(complete('create', '')).toEqual([]);
    expect(complete('run', '--cwd', '/', 'alpha', '')).toEqual([]);
  });

  it('list --names prints one name a line', async () => {
    expect(await fx.ok(['list', '--names'])).toBe('base\nalpha\nbeta\n');
  });
});

describe('--json on create, delete and list; ps arguments', () => {
  beforeEach(async () => {
    await fx.init();
  });

  it('create --json names the new world and its parents by name and id', async () => {
    await fx.ok(['create', 'P']);
    const made = JSON.parse(await fx.ok(['create', 'K', '--from', 'P', '--from', 'base', '--json'])) as unknown;
    expect(made).toEqual({ created: { name: 'K', id: 'w2', parents: [{ id: 'w1', name: 'P' }, { id: 'w0', name: 'base' }], nosuid: false, open: 'kernel' } });
  });

  it('delete --json lists every world it deleted and the processes it ended', async () => {
    await fx.ok(['create', 'P']);
    await fx.ok(['create', 'K', '--from', 'P']);
    const r = JSON.parse(await fx.ok(['delete', '-r', 'P', '--json'])) as { deleted: { id: string; name: string }[]; processes: number };
    expect(r.deleted.map((w) => `${w.id} ${w.name}`).sort()).toEqual(['w1 P', 'w2 K']);
    expect(r.processes).toBe(0);
  });

  it('list --json gives parents by name as well as by id, and process counts', async () => {
    await fx.ok(['create', 'P']);
    const ws = JSON.parse(await fx.ok(['list', '--json'])) as { name: string; parents: string[]; parentNames: string[]; processes: number }[];
    expect(ws.map((w) => [w.name, w.parents, w.parentNames, w.processes])).toEqual([['base', [], [], 0], ['P', ['w0'], ['base'], 0]]);
  });

  it('ps needs a world or --all, not both', async () => {
    await fx.ok(['create', 'P']);
    for (const argv of [['ps'], ['ps', 'P', '--all']]) {
      const r = await fx.ctl(argv);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--all/);
    }
    expect(await fx.ok(['ps', '--all'])).toBe('WORLD  HOST PID  PID  STATE  COMMAND\n');
  });
});

describe('worldctl diff and ls PATH...', () => {
  beforeEach(async () => {
    mkdirSync(join(fx.base, 'etc'));
    mkdirSync(join(fx.base, 'bin'));
    writeFileSync(join(fx.base, 'etc', 'conf'), 'a\nb\nc\n');
    writeFileSync(join(fx.base, 'etc', 'old'), 'gone\n');
    writeFileSync(join(fx.base, 'etc', 'same'), 'same\n');
    writeFileSync(join(fx.base, 'bin', 'tool'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2]));
    symlinkSync('conf', join(fx.base, 'etc', 'link'));
    await fx.init();
    await fx.ok(['create', 'W']);
    // What the view would leave after: edit etc/conf, add etc/new and an empty file, delete
    // etc/old, chmod the binary and append to it, retarget the symlink, touch etc/same.
    const top = layer('w1');
    mkdirSync(join(top, 'etc'));
    mkdirSync(join(top, 'bin'));
    writeFileSync(join(top, 'etc', 'conf'), 'a\nB\nc\nd\n');
    writeFileSync(join(top, 'etc', 'new'), 'new\n');
    writeFileSync(join(top, 'etc', 'empty'), '');
    writeFileSync(join(top, 'etc', '.wh.old'), '');
    writeFileSync(join(top, 'etc', 'same'), 'same\n');
    writeFileSync(join(top, 'bin', 'tool'), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2, 3]));
    chmodSync(join(top, 'bin', 'tool'), 0o755);
    symlinkSync('new', join(top, 'etc', 'link'));
  });

  it('shows text files as unified diffs and everything else as one line each', async () => {
    const out = await fx.ok(['diff', 'W']);
    expect(out).toBe([
      'mode of /bin/tool: 0644 -> 0755',
      'binary /bin/tool changed (7 -> 8 bytes)',
      '--- a/etc/conf', '+++ b/etc/conf', '@@ -1,3 +1,4 @@', ' a', '-b', '+B', ' c', '+d',
      'added /etc/empty (empty file, mode 0644)',
      'symlink /etc/link: -> conf became -> new',
      '--- /dev/null', '+++ b/etc/new', '@@ -0,0 +1 @@', '+new',
      '--- a/etc/old', '+++ /dev/null', '@@ -1 +0,0 @@', '-gone',
      'metadata of /etc/same changed (owner, times or extended attributes)',
      '',
    ].join('\n'));
  });

  it('makes a patch that turns the parents\' text files into the world\'s (patch -p1)', async () => {
    const tree = join(fx.root, 'patched');
    cpSync(fx.base, tree, { recursive: true, verbatimSymlinks: true });
    const r = spawnSync('patch', ['-p1', '-s', '-d', tree], { input: await fx.ok(['diff', 'W', '/etc/conf', '/etc/new', '/etc/old']), encoding: 'utf8' });
    expect([r.status, r.stderr]).toEqual([0, '']);
    const after = describeTree(tree);
    expect(readFileSync(join(tree, 'etc', 'conf'), 'utf8')).toBe('a\nB\nc\nd\n');
    expect(readFileSync(join(tree, 'etc', 'new'), 'utf8')).toBe('new\n');
    expect(after['etc/old']).toBeUndefined();
  });

  it('limits diff and ls to the paths given, absolute or relative to the world\'s root', async () => {
    expect(await fx.ok(['diff', 'W', 'etc/conf'])).toBe('--- a/etc/conf\n+++ b/etc/conf\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n');
    expect(await fx.ok(['diff', 'W', '/bin'])).toBe('mode of /bin/tool: 0644 -> 0755\nbinary /bin/tool changed (7 -> 8 bytes)\n');
    expect(await fx.ok(['diff', 'W', '/usr'])).toBe('');
    const ls = await fx.ok(['ls', 'W', '/etc/old', 'bin/']);
    expect(ls.split('\n').filter((l) => l.startsWith('  '))).toEqual(['  M /bin/tool', '  D /etc/old']);
    expect(await fx.ok(['ls', 'W', '/usr'])).toContain('files: no changes at /usr\n');
    const json = JSON.parse(await fx.ok(['ls', 'W', '/etc/new', '--json'])) as { changes: { path: string }[] };
    expect(json.changes.map((c) => c.path)).toEqual(['/etc/new']);
  });

  it('refuses a path that leaves the world\'s root, with a usage error', async () => {
    for (const cmd of ['diff', 'ls']) {
      const r = await fx.ctl([cmd, 'W', '/../etc']);
      expect(r.code, cmd).toBe(2);
      expect(r.stderr).toMatch(/escapes the root/);
    }
  });

  it('shows nothing for the base world, and exits 5 for an unknown one', async () => {
    expect(await fx.ctl(['diff', 'base'])).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await fx.ctl(['diff', 'Nope'])).code).toBe(5);
  });
});
