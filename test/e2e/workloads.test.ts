// Real programs inside a worldfs view, on every whiteout format: tar, git, make + gcc, gcc -E.
// The inputs sit in a lower layer; the programs write through the view. A plain directory (or the
// source tree itself) is the oracle each result is compared with.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mountWorldfs, stackDirs, tempDir, unmountAll } from '../helpers/worldfs.js';
import { describeTree, sha256 } from '../helpers/tree.js';

const FORMATS = ['aufs', 'overlay'] as const;

/** Real trees from this machine: headers, a zoneinfo tree full of symlinks, perl modules. */
const SOURCES = ['usr/include/linux', 'usr/share/zoneinfo', 'usr/share/perl5'] as const;

/** Run a program to completion (bounded, so a hung mount fails the test instead of hanging it). */
function run(cmd: string, args: readonly string[], cwd: string) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 90_000, maxBuffer: 256 << 20 });
  return { status: r.status, signal: r.signal, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

/** Run and require exit 0; the failure message carries the program's stderr. */
function ok(cmd: string, args: readonly string[], cwd: string): string {
  const r = run(cmd, args, cwd);
  expect(r, `${cmd} ${args.join(' ')} in ${cwd}: ${r.stderr}`).toMatchObject({ status: 0 });
  return r.stdout;
}

/** The part of the tarball the git test commits (git through FUSE is slow on a loaded 2-core machine). */
const GIT_TREE = ['usr/share/perl5', 'usr/share/zoneinfo/America'] as const;

/** The source entries under GIT_TREE, keyed by their path in the tarball. */
function gitTree(): ReturnType<typeof describeTree> {
  return Object.fromEntries(SOURCES.flatMap((s) => Object.entries(sourceTree[s]!).map(([p, e]) => [`${s}/${p}`, e] as const))
    .filter(([p]) => GIT_TREE.some((g) => p.startsWith(g + '/'))));
}

const GIT = ['-c', 'user.name=World Tester', '-c', 'user.email=tester@worldos.invalid', '-c', 'init.defaultBranch=main',
  '-c', 'core.autocrlf=false', '-c', 'gc.auto=0'];

let shared: ReturnType<typeof tempDir>;
let tarball: string;
/** The source trees as recorded from / (mtimes included: tar restores them). */
let sourceTree: Record<string, ReturnType<typeof describeTree>>;
let includeCopy: string;

beforeAll(() => {
  shared = tempDir('worldos-workloads-');
  tarball = join(shared.path, 'src.tgz');
  ok('tar', ['czf', tarball, '-C', '/', ...SOURCES], shared.path);
  sourceTree = Object.fromEntries(SOURCES.map((s) => [s, describeTree(join('/', s), { mtime: true })]));
  includeCopy = join(shared.path, 'usr-include');
  ok('cp', ['-a', '/usr/include', includeCopy], shared.path);
});

afterAll(() => shared.cleanup());

describe('the workload fixtures', () => {
  it('unpack into a plain directory exactly like the source tree, so the checks below are sound', () => {
    const plain = join(shared.path, 'plain');
    mkdirSync(plain);
    ok('tar', ['xzf', tarball], plain);
    for (const s of SOURCES) expect(describeTree(join(plain, s), { mtime: true })).toEqual(sourceTree[s]);
    const all = Object.values(sourceTree).flatMap((t) => Object.values(t));
    expect(all.filter((e) => e.type === 'file').length).toBeGreaterThan(1500);
    expect(all.filter((e) => e.type === 'symlink').length).toBeGreaterThan(100);
  });
});

describe.each(FORMATS)('real programs in a worldfs view (%s whiteouts)', (whiteout) => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir('worldos-wl-');
  });
  afterEach(async () => {
    await unmountAll();
    tmp.cleanup();
  });

  it('tar unpacks a real tarball from a lower layer with every checksum, symlink target, mode and mtime intact', async () => {
    const d = stackDirs(tmp.path, 1);
    cpSync(tarball, join(d.lowers[0]!, 'src.tgz'));
    const m = await mountWorldfs({ ...d, whiteout });
    ok('tar', ['xzf', 'src.tgz'], m.mnt);
    const noTimes = (t: ReturnType<typeof describeTree>) =>
      Object.fromEntries(Object.entries(t).map(([p, { mtime: _, ...e }]) => [p, e]));
    const view = Object.fromEntries(SOURCES.map((s) => [s, describeTree(join(m.mnt, s), { mtime: true })]));
    for (const s of SOURCES) expect(noTimes(view[s]!), s).toEqual(noTimes(sourceTree[s]!));
    // Everything went to the upper layer; the lower layer holds only the tarball.
    expect(readdirSync(d.lowers[0]!)).toEqual(['src.tgz']);
    for (const s of SOURCES) expect(describeTree(join(d.upper, s)), `upper ${s}`).toEqual(noTimes(sourceTree[s]!));
    // tar sets each file's mtime with futimens(fd, [UTIME_OMIT, mtime]) and each directory's at the end.
    for (const s of SOURCES) expect(view[s], `mtimes ${s}`).toEqual(sourceTree[s]);
  });

  it('utimensat that sets only one of atime and mtime (touch -m / touch -a) is honoured', async () => {
    const d = stackDirs(tmp.path, 1);
    writeFileSync(join(d.lowers[0]!, 'lower.txt'), 'lower');
    const m = await mountWorldfs({ ...d, whiteout });
    writeFileSync(join(m.mnt, 'new.txt'), 'new');
    for (const f of ['new.txt', 'lower.txt']) {
      ok('touch', ['-d', '@981173106', f], m.mnt);
      ok('touch', ['-m', '-d', '@1262304000', f], m.mnt);
      ok('touch', ['-a', '-d', '@1104537600', f], m.mnt);
      const st = statSync(join(m.mnt, f));
      expect({ f, mtime: st.mtime.toISOString(), atime: st.atime.toISOString() })
        .toEqual({ f, mtime: '2010-01-01T00:00:00.000Z', atime: '2005-01-01T00:00:00.000Z' });
    }
  });

  it('git commits a tree that lives in a lower layer, fsck passes, and the status stays clean', async () => {
    const d = stackDirs(tmp.path, 1);
    ok('tar', ['xzf', tarball, ...GIT_TREE], d.lowers[0]!);
    const m = await mountWorldfs({ ...d, whiteout });
    ok('git', [...GIT, 'init', '-q'], m.mnt);
    ok('git', [...GIT, 'add', '-A'], m.mnt);
    ok('git', [...GIT, 'commit', '-q', '-m', 'import'], m.mnt);
    ok('git', [...GIT, 'fsck', '--full', '--strict'], m.mnt);
    expect(ok('git', [...GIT, 'status', '--porcelain'], m.mnt)).toBe('');
    const files = ok('git', [...GIT, 'ls-files'], m.mnt).split('\n').filter(Boolean);
    const expected = Object.entries(gitTree()).filter(([, e]) => e.type !== 'dir').map(([p]) => p).sort();
    expect(files.sort()).toEqual(expected);
    expect(existsSync(join(d.lowers[0]!, '.git'))).toBe(false);

    // Change lower files through the view: copy-up, whiteout, rename of a lower file.
    const edited = 'usr/share/perl5/Dpkg/Version.pm';
    const removed = 'usr/share/zoneinfo/America/Lima';
    const removedLink = 'usr/share/zoneinfo/America/Atka';
    writeFileSync(join(m.mnt, edited), '# changed in the view\n', { flag: 'a' });
    ok('rm', [removed, removedLink], m.mnt);
    ok('mv', ['usr/share/perl5/Dpkg/Deps.pm', 'usr/share/perl5/Dpkg/Deps-moved.pm'], m.mnt);
    const status = ok('git', [...GIT, 'status', '--porcelain', '--untracked-files=all'], m.mnt).split('\n').filter(Boolean).sort();
    expect(status).toEqual([
      ` D ${removed}`,
      ` D ${removedLink}`,
      ' D usr/share/perl5/Dpkg/Deps.pm',
      ` M ${edited}`,
      '?? usr/share/perl5/Dpkg/Deps-moved.pm',
    ].sort());
    // git puts the files back over the whiteouts: the view matches the source again.
    ok('git', [...GIT, 'reset', '-q', '--hard'], m.mnt);
    ok('git', [...GIT, 'clean', '-q', '-f'], m.mnt);
    expect(ok('git', [...GIT, 'status', '--porcelain', '--untracked-files=all'], m.mnt)).toBe('');
    const strip = (t: ReturnType<typeof describeTree>) =>
      Object.fromEntries(Object.entries(t).map(([p, e]) => [p, { type: e.type, sha256: e.sha256, target: e.target }]));
    const view = describeTree(m.mnt, { exclude: ['.git'] });
    expect(strip(Object.fromEntries(Object.entries(view).filter(([p]) => GIT_TREE.some((g) => p.startsWith(g + '/'))))))
      .toEqual(strip(gitTree()));
    ok('git', [...GIT, 'fsck', '--full', '--strict'], m.mnt);
    expect(sha256(join(d.lowers[0]!, edited))).toBe(sha256(join('/', edited)));
  });

  it('make builds a multi-file C program from lower-layer sources and rebuilds only the touched object', async () => {
    const d = stackDirs(tmp.path, 1);
    const src = join(d.lowers[0]!, 'proj');
    mkdirSync(src);
    writeFileSync(join(src, 'util.h'), 'int add(int a, int b);\nconst char *greeting(void);\n');
    writeFileSync(join(src, 'add.c'), '#include "util.h"\nint add(int a, int b) { return a + b; }\n');
    writeFileSync(join(src, 'greet.c'), '#include "util.h"\nconst char *greeting(void) { return "hello from the view"; }\n');
    writeFileSync(join(src, 'main.c'),
      '#include <stdio.h>\n#include "util.h"\nint main(void) { printf("%s %d\\n", greeting(), add(20, 22)); return 0; }\n');
    writeFileSync(join(src, 'Makefile'), [
      'CC = gcc', 'CFLAGS = -O1 -Wall -Werror', 'OBJS = main.o add.o greet.o', '',
      'prog: $(OBJS)', '\t$(CC) -o $@ $(OBJS)', '',
      '%.o: %.c util.h', '\t$(CC) $(CFLAGS) -c -o $@ $<', '',
    ].join('\n'));
    const lowerBefore = describeTree(src, { mtime: true });
    const m = await mountWorldfs({ ...d, whiteout });
    const proj = join(m.mnt, 'proj');

    const first = ok('make', [], proj);
    for (const o of ['main.o', 'add.o', 'greet.o']) expect(first).toContain(`-c -o ${o}`);
    expect(ok('./prog', [], proj)).toBe('hello from the view 42\n');
    expect(run('make', ['-q'], proj).status).toBe(0); // up to date right after the build
    expect(readdirSync(join(d.upper, 'proj')).sort()).toEqual(['add.o', 'greet.o', 'main.o', 'prog']);

    const mtimes = () => Object.fromEntries(['main.o', 'add.o', 'greet.o', 'prog'].map((f) =>
      [f, statSync(join(proj, f), { bigint: true }).mtimeNs]));
    const built = mtimes();
    ok('touch', ['greet.c'], proj);
    expect(run('make', ['-q'], proj).status).toBe(1); // now out of date
    const second = ok('make', [], proj);
    expect(second).toContain('-c -o greet.o greet.c');
    expect(second).not.toContain('main.o main.c');
    expect(second).not.toContain('add.o add.c');
    const rebuilt = mtimes();
    expect(rebuilt['main.o']).toBe(built['main.o']);
    expect(rebuilt['add.o']).toBe(built['add.o']);
    expect(rebuilt['greet.o']! > built['greet.o']!).toBe(true);
    expect(rebuilt.prog! > built.prog!).toBe(true);
    expect(run('make', ['-q'], proj).status).toBe(0);

    // An in-place edit (sed -i renames a new file over the copied-up one) changes the program.
    ok('sed', ['-i', 's/hello from the view/edited in the view/', 'greet.c'], proj);
    ok('make', [], proj);
    expect(ok('./prog', [], proj)).toBe('edited in the view 42\n');
    expect(describeTree(src, { mtime: true })).toEqual(lowerBefore);
  });

  it('gcc preprocesses and compiles against <stdio.h> from a view over a copy of /usr/include', async () => {
    const d = stackDirs(tmp.path, 0);
    const m = await mountWorldfs({ ...d, lowers: [includeCopy], whiteout });
    const prog = join(tmp.path, 'hello.c');
    writeFileSync(prog, '#include <stdio.h>\nint main(void) { printf("%s\\n", BUFSIZ > 0 ? "stdio ok" : "no"); return 0; }\n');
    const flags = (root: string) => ['-I', root, '-I', join(root, 'x86_64-linux-gnu')];
    const viaView = ok('gcc', ['-E', ...flags(m.mnt), prog], tmp.path);
    const viaPlain = ok('gcc', ['-E', ...flags(includeCopy), prog], tmp.path);
    expect(viaView).toContain(`"${m.mnt}/stdio.h"`);
    expect(viaView).toContain(`"${m.mnt}/x86_64-linux-gnu/bits/types.h"`);
    expect(viaView).toBe(viaPlain.split(includeCopy).join(m.mnt));
    ok('gcc', ['-Wall', '-Werror', ...flags(m.mnt), '-o', join(tmp.path, 'hello'), prog], tmp.path);
    expect(ok(join(tmp.path, 'hello'), [], tmp.path)).toBe('stdio ok\n');
    expect(readdirSync(d.upper).filter((n) => !n.startsWith('.wh.'))).toEqual([]);
  });
});
