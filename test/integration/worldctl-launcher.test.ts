// bin/worldctl, the launcher every worldctl command goes through (a shell script handing `run` to
// dist/worldrun first, then bin/worldctl.mjs), and bin/worldfs, the daemon's (bin/worldfs.mjs); both
// through bin/cached-bundle.mjs. Each loads its one-file bundle
// (dist/worldctl.cjs) only while it is newer than tsc's output (dist/cli/main.js), so a `tsc`
// run alone never leaves it running stale code; it starts Node without NODE_EXTRA_CA_CERTS; it
// works through a symlink (npm link); and it compiles the bundle from a code cache made for that
// very bundle only. A copy of it in a temp dir, with stand-ins for the two entry points that
// print which one ran.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO, WORLDCTL } from '../helpers/worldctl.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'worldos-launcher-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  copyFileSync(WORLDCTL, join(dir, 'bin', 'worldctl'));
  copyFileSync(`${WORLDCTL}.mjs`, join(dir, 'bin', 'worldctl.mjs'));
  for (const f of ['cached-bundle.mjs', 'worldfs', 'worldfs.mjs']) copyFileSync(join(REPO, 'bin', f), join(dir, 'bin', f));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A stand-in entry point that prints its name and what the launcher passed on. */
function entry(file: string, name: string, ageSeconds: number): void {
  writeFileSync(join(dir, 'dist', file), `console.log(${JSON.stringify(name)}, process.argv.slice(2).join(' '), process.env.NODE_EXTRA_CA_CERTS ?? 'unset');\n`);
  const t = Date.now() / 1000 - ageSeconds;
  utimesSync(join(dir, 'dist', file), t, t);
}

function launch(bin = join(dir, 'bin', 'worldctl'), args = ['run', 'w', '--', 'true']): string {
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt', WORLDOS_HOME: join(dir, 'home') };
  const r = spawnSync(bin, args, { encoding: 'utf8', env });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe('bin/worldctl', () => {
  it('loads the bundle when it is newer than tsc\'s output, with the arguments, without NODE_EXTRA_CA_CERTS', () => {
    entry('cli/main.js', 'tsc', 60);
    entry('worldctl.cjs', 'bundle', 10);
    expect(launch()).toBe('bundle run w -- true unset');
  });

  it('loads tsc\'s output when the bundle is older (tsc ran after the last bundle)', () => {
    entry('worldctl.cjs', 'bundle', 60);
    entry('cli/main.js', 'tsc', 10);
    expect(launch()).toBe('tsc run w -- true unset');
  });

  it('loads tsc\'s output when there is no bundle (an install without esbuild)', () => {
    entry('cli/main.js', 'tsc', 10);
    expect(launch()).toBe('tsc run w -- true unset');
  });

  it('finds its files through a symlink, as npm link makes', () => {
    entry('cli/main.js', 'tsc', 60);
    entry('worldctl.cjs', 'bundle', 10);
    const link = join(dir, 'on-path');
    symlinkSync(join(dir, 'bin', 'worldctl'), link);
    expect(launch(link)).toBe('bundle run w -- true unset');
  });

  it('hands `run` to dist/worldrun, which hands it to Node unchanged when no run ticket vouches for it', () => {
    entry('cli/main.js', 'tsc', 60);
    entry('worldctl.cjs', 'bundle', 10);
    copyFileSync(join(REPO, 'dist', 'worldrun'), join(dir, 'dist', 'worldrun'));
    expect(launch()).toBe('bundle run w -- true unset');
    expect(launch(undefined, ['--home', join(dir, 'home'), 'run', '-e', 'A=1', 'w', 'x'])).toBe(`bundle --home ${join(dir, 'home')} run -e A=1 w x unset`);
    expect(launch(undefined, ['list', 'run'])).toBe('bundle list run unset');
  });

  it('dist/worldctl (npm\'s bin: a link to worldrun) takes worldctl\'s command line with no shell, through a symlink too', () => {
    entry('cli/main.js', 'tsc', 60);
    entry('worldctl.cjs', 'bundle', 10);
    copyFileSync(join(REPO, 'dist', 'worldrun'), join(dir, 'dist', 'worldrun'));
    symlinkSync('worldrun', join(dir, 'dist', 'worldctl'));
    const viaDist = join(dir, 'dist', 'worldctl');
    expect(launch(viaDist)).toBe('bundle run w -- true unset');
    expect(launch(viaDist, ['--home', join(dir, 'home'), 'list'])).toBe(`bundle --home ${join(dir, 'home')} list unset`);
    expect(launch(viaDist, [])).toBe('bundle  unset'); // no command: worldctl's own usage
    const onPath = join(dir, 'on-path');
    mkdirSync(onPath);
    symlinkSync(viaDist, join(onPath, 'worldctl')); // as npm link: PATH/worldctl -> the package's dist/worldctl
    expect(launch(join(onPath, 'worldctl'), ['ls', 'w'])).toBe('bundle ls w unset');
    // The fast path itself answers (exit 125 where it may not hand over to Node): no ticket here.
    mkdirSync(join(dir, 'home'));
    const r = spawnSync(viaDist, ['run', 'w', '--', 'true'], { encoding: 'utf8', env: { ...process.env, WORLDOS_HOME: join(dir, 'home'), WORLDCTL_FASTPATH: 'require' } });
    expect(r.status).toBe(125);
    expect(r.stderr).toMatch(/fast path refused: no run ticket/);
  });

  it('writes a code cache for the bundle at the first start and keeps using it while it matches', () => {
    entry('cli/main.js', 'tsc', 60);
    entry('worldctl.cjs', 'bundle', 10);
    const cache = join(dir, 'dist', 'worldctl.cjs.cache');
    expect(launch()).toBe('bundle run w -- true unset');
    expect(existsSync(cache)).toBe(true);
    const first = statSync(cache).mtimeMs;
    expect(launch()).toBe('bundle run w -- true unset');
    expect(statSync(cache).mtimeMs).toBe(first); // accepted, so not written again
  });

  it('never runs a cache made for another bundle of the same length', () => {
    entry('cli/main.js', 'tsc', 60);
    entry('worldctl.cjs', 'bundle', 10);
    expect(launch()).toBe('bundle run w -- true unset');
    // Same length, other code: V8 alone would accept the old cache (it checks only the length).
    entry('worldctl.cjs', 'BUNDLE', 5);
    expect(launch()).toBe('BUNDLE run w -- true unset');
    expect(readFileSync(join(dir, 'dist', 'worldctl.cjs.cache')).includes(Buffer.from(`${statSync(join(dir, 'dist', 'worldctl.cjs')).size} `))).toBe(true);
  });

  it('runs without a cache where dist is read-only (a cache that cannot be written is no error)', () => {
    entry('cli/main.js', 'tsc', 60);
    entry('worldctl.cjs', 'bundle', 10);
    mkdirSync(join(dir, 'dist', 'worldctl.cjs.cache')); // a directory: neither readable as a cache nor replaceable
    expect(launch()).toBe('bundle run w -- true unset');
    expect(launch()).toBe('bundle run w -- true unset');
  });
});

/** A stand-in daemon bundle: prints its name, and with $CALL calls the 60 functions it holds (compiled only then). */
function daemonBundle(name: string, ageSeconds: number): void {
  const fns = Array.from({ length: 60 }, (_, i) => `function f${i}(x) { const a = [x, ${i}]; return a.map((v) => v * ${i + 1}).reduce((p, q) => p + q, 0) + String(x).length; }`);
  const calls = Array.from({ length: 60 }, (_, i) => `f${i}(${i});`).join(' ');
  writeFileSync(join(dir, 'dist', 'worldfs.cjs'), `${fns.join('\n')}\nif (process.env.CALL) { ${calls} }\nconsole.log(${JSON.stringify(name)}, process.argv.slice(2).join(' '));\n`);
  const t = Date.now() / 1000 - ageSeconds;
  utimesSync(join(dir, 'dist', 'worldfs.cjs'), t, t);
}

function daemon(env: Record<string, string> = {}): string {
  const r = spawnSync(join(dir, 'bin', 'worldfs'), ['-f', 'x'], { encoding: 'utf8', env: { ...process.env, ...env } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe('bin/worldfs', () => {
  beforeEach(() => mkdirSync(join(dir, 'dist', 'fs')));

  it('runs the daemon from its bundle when it is newer than tsc\'s output, else tsc\'s dist/fs/main.js', () => {
    entry('fs/main.js', 'tsc', 60);
    daemonBundle('bundle', 10);
    expect(daemon()).toBe('bundle -f x');
    entry('fs/main.js', 'tsc', 5);
    expect(daemon()).toBe('tsc -f x unset');
  });

  it('writes its code cache mode 0644 under any umask, and rewrites it when a daemon compiled a tenth more', () => {
    entry('fs/main.js', 'tsc', 60);
    daemonBundle('bundle', 10);
    const cache = join(dir, 'dist', 'worldfs.cjs.cache');
    const r = spawnSync('sh', ['-c', `umask 0; exec ${join(dir, 'bin', 'worldfs')} -f x`], { encoding: 'utf8' });
    expect(r.stdout.trim(), r.stderr).toBe('bundle -f x');
    expect(statSync(cache).mode & 0o777).toBe(0o644);
    const small = statSync(cache).size;
    expect(daemon()).toBe('bundle -f x');
    expect(statSync(cache).size).toBe(small); // the same functions: kept
    expect(daemon({ CALL: '1' })).toBe('bundle -f x');
    const grown = statSync(cache).size;
    expect(grown).toBeGreaterThan(small * 1.1); // the 60 functions it compiled are in it now
    expect(daemon()).toBe('bundle -f x');
    expect(statSync(cache).size).toBe(grown); // a daemon that compiled less leaves the richer cache
  });
});
