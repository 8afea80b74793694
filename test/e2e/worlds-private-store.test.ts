// The store is private (issue 13 point 8): a store made by root lets no other local user rewrite
// the records merges trust, read a world's layer, or run from its host path a setuid file that a
// world's process made. Checked as a real unprivileged user against a real world over /.
import { chmodSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepUnder } from '../helpers/procs.js';
import { UnprivilegedUser } from '../helpers/unprivileged.js';
import { worldctlAt } from '../helpers/worldctl.js';
import { tempDir } from '../helpers/worldfs.js';

let tmp: ReturnType<typeof tempDir>;
let home: string;
let user: UnprivilegedUser;
const { ctl, ok } = worldctlAt(() => home);

beforeAll(async () => {
  tmp = tempDir('worldos-private-');
  chmodSync(tmp.path, 0o755); // only the store's own modes may keep the user out
  home = join(tmp.path, 'home');
  ok('init', '--base', '/');
  ok('create', 'w');
  ok('run', 'w', '--', 'sh', '-c', 'cp /bin/sh /suidsh && chmod 4755 /suidsh && echo secret > /secret && chmod 644 /secret');
  user = await UnprivilegedUser.make({ fuse: false });
});

afterAll(async () => {
  ctl('delete', 'w');
  await user?.cleanup();
  sweepUnder(tmp.path);
  tmp.cleanup();
});

describe('a store made by root', () => {
  it('keeps its data directories 0700 and its records 0600, whatever the umask of the daemon', () => {
    const id = (JSON.parse(ok('list', '--json')) as { id: string; name: string }[]).find((w) => w.name === 'w')!.id;
    const mode = (p: string) => statSync(join(home, p)).mode & 0o777;
    for (const d of ['worlds', 'stacks', 'journal', 'mnt']) expect(mode(d), d).toBe(0o700);
    expect(existsSync(join(home, `worlds/${id}/seen`))).toBe(true);
    for (const f of ['worlds.xml', `worlds/${id}/seen`, `worlds/${id}/worldfs.log`]) expect(mode(f), f).toBe(0o600);
    // The world's files are there for root, as the world made them.
    expect(statSync(join(home, `worlds/${id}/layer/suidsh`)).mode & 0o7777).toBe(0o4755);
  });

  it('lets another user reach the home but write no record, read no layer and run no setuid file of a world', () => {
    const id = (JSON.parse(ok('list', '--json')) as { id: string; name: string }[]).find((w) => w.name === 'w')!.id;
    const w = `${home}/worlds/${id}`;
    const attempt = (script: string) => user.run(['sh', '-c', script]).status;
    expect(attempt(`ls ${home} >/dev/null`), 'the home itself is reachable (the checks below are not vacuous)').toBe(0);
    expect(attempt(`echo x >> ${home}/worlds.xml`)).not.toBe(0);
    expect(attempt(`cat ${home}/worlds.xml`)).not.toBe(0);
    expect(attempt(`echo x >> ${w}/seen`)).not.toBe(0);
    expect(attempt(`ls ${home}/worlds`)).not.toBe(0);
    expect(attempt(`cat ${w}/layer/secret`)).not.toBe(0);
    expect(attempt(`${w}/layer/suidsh -c 'id -u'`)).not.toBe(0);
    expect(attempt(`ls ${home}/stacks ${home}/mnt`)).not.toBe(0);
  });
});
