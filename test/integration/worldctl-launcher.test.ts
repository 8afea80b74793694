// bin/worldctl, the launcher every worldctl command goes through: it loads the one-file bundle
// (dist/worldctl.mjs) only while it is newer than tsc's output (dist/cli/main.js), so a `tsc`
// run alone never leaves it running stale code; it starts Node without NODE_EXTRA_CA_CERTS; and
// it works through a symlink (npm link). A copy of it in a temp dir, with stand-ins for the two
// entry points that print which one ran.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WORLDCTL } from '../helpers/worldctl.js';

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'worldos-launcher-'));
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'dist', 'cli'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  copyFileSync(WORLDCTL, join(dir, 'bin', 'worldctl'));
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

function launch(bin = join(dir, 'bin', 'worldctl')): string {
  const r = spawnSync(bin, ['run', 'w', '--', 'true'], { encoding: 'utf8', env: { ...process.env, NODE_EXTRA_CA_CERTS: '/etc/ssl/certs/ca-certificates.crt' } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim();
}

describe('bin/worldctl', () => {
  it('loads the bundle when it is newer than tsc\'s output, with the arguments, without NODE_EXTRA_CA_CERTS', () => {
    entry('cli/main.js', 'tsc', 60);
    entry('worldctl.mjs', 'bundle', 10);
    expect(launch()).toBe('bundle run w -- true unset');
  });

  it('loads tsc\'s output when the bundle is older (tsc ran after the last bundle)', () => {
    entry('worldctl.mjs', 'bundle', 60);
    entry('cli/main.js', 'tsc', 10);
    expect(launch()).toBe('tsc run w -- true unset');
  });

  it('loads tsc\'s output when there is no bundle (an install without esbuild)', () => {
    entry('cli/main.js', 'tsc', 10);
    expect(launch()).toBe('tsc run w -- true unset');
  });

  it('finds its files through a symlink, as npm link makes', () => {
    entry('cli/main.js', 'tsc', 60);
    entry('worldctl.mjs', 'bundle', 10);
    const link = join(dir, 'on-path');
    symlinkSync(join(dir, 'bin', 'worldctl'), link);
    expect(launch(link)).toBe('bundle run w -- true unset');
  });
});
