// Real Debian software in a world (issue 13): apt-get update and install of a small package in a
// world over /, with no workaround (apt fstat()s the temporary files it has unlinked; its man-db
// trigger walks /usr/share/man), the package runs there, and once the world is deleted the host's
// dpkg database and /usr/bin are as they were. Needs Debian's archive (CI reaches it).
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepUnder } from '../helpers/procs.js';
import { worldctlAt } from '../helpers/worldctl.js';
import { tempDir } from '../helpers/worldfs.js';

const PACKAGE = 'hello';
let tmp: ReturnType<typeof tempDir>;
let home: string;
// Bounded generously: an install fetches from Debian's archive (a hang detector, not a speed check).
const { ctl, ok } = worldctlAt(() => home, 600_000);
const dpkgStatus = () => createHash('sha256').update(readFileSync('/var/lib/dpkg/status')).digest('hex');

beforeAll(() => {
  tmp = tempDir('worldos-apt-');
  home = join(tmp.path, 'home');
  ok('init', '--base', '/');
});

afterAll(() => {
  ctl('delete', 'debian');
  sweepUnder(tmp.path);
  rmSync(tmp.path, { recursive: true, force: true });
});

describe('apt-get in a world over /', () => {
  it('installs and runs a package in the world and leaves the host untouched once the world is deleted', () => {
    expect(existsSync(`/usr/bin/${PACKAGE}`), `the host must not have ${PACKAGE} for this test`).toBe(false);
    const before = dpkgStatus();
    ok('create', 'debian');
    ok('run', 'debian', '--env', 'DEBIAN_FRONTEND=noninteractive', '--', 'sh', '-c',
      `apt-get update -qq && apt-get install -y -q --no-install-recommends ${PACKAGE}`);
    expect(ok('run', 'debian', '--', PACKAGE).trim()).toBe('Hello, world!');
    expect(ok('run', 'debian', '--', 'dpkg-query', '-W', '-f', '${Status}', PACKAGE)).toBe('install ok installed');
    // What the world changed is its own: the host has neither the package nor its dpkg record.
    expect(existsSync(`/usr/bin/${PACKAGE}`)).toBe(false);
    expect(dpkgStatus()).toBe(before);
    ok('delete', 'debian');
    expect(existsSync(`/usr/bin/${PACKAGE}`)).toBe(false);
    expect(dpkgStatus()).toBe(before);
  });
});
