// setuid programs in worlds (issue 13 point 2): as root a world's view is mounted suid,dev, so a
// setuid-root program run by another user gains root as on the host (exim's delivery, sudo, su,
// passwd, ping depend on it); `create --nosuid` turns that off, and a nosuid world's children
// inherit it.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepUnder } from '../helpers/procs.js';
import { worldctlAt } from '../helpers/worldctl.js';
import { tempDir } from '../helpers/worldfs.js';

let tmp: ReturnType<typeof tempDir>;
let home: string;
const { ctl, ok } = worldctlAt(() => home);

/** The effective uid a setuid-root copy of id(1), made in world `w`, gives user nobody there. */
const suidEuid = (w: string) => ok('run', w, '--', 'sh', '-c',
  'cp /usr/bin/id /tmp/suid-id && chmod 4755 /tmp/suid-id && setpriv --reuid=65534 --regid=65534 --clear-groups /tmp/suid-id -u').trim();

beforeAll(() => {
  tmp = tempDir('worldos-suid-');
  home = join(tmp.path, 'home');
  ok('init', '--base', '/');
});

afterAll(() => {
  for (const w of ['nc', 'n', 's']) ctl('delete', w);
  sweepUnder(tmp.path);
  rmSync(tmp.path, { recursive: true, force: true });
});

describe('setuid programs in a world', () => {
  it('gain root as on the host: the view is mounted suid,dev', () => {
    ok('create', 's');
    expect(suidEuid('s')).toBe('0');
    expect(ok('run', 's', '--', 'findmnt', '-n', '-o', 'OPTIONS', '/')).not.toMatch(/nosuid|nodev/);
  });

  it('lose their power in a world created --nosuid, and in its children', () => {
    ok('create', 'n', '--nosuid');
    ok('create', 'nc', '--from', 'n');
    expect(suidEuid('n')).toBe('65534');
    expect(suidEuid('nc')).toBe('65534');
    const list = JSON.parse(ok('list', '--json')) as { name: string; nosuid?: boolean }[];
    expect(list.filter((w) => w.nosuid).map((w) => w.name).sort()).toEqual(['n', 'nc']);
  });
});
