// A merge never changes what a world that is not merged sees (issue 13, point 3): `qp`, made from
// `q` and `p` in that order, keeps showing q's version of a file both changed after `pq` (from p
// and q) is merged into their parent `x`, and a process running in `qp` during the merge keeps
// working, served by the same daemon. Real worlds over `/`, real mounts and namespaces.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { alive, sweepUnder, waitFor } from '../helpers/procs.js';
import { removeStoreCgroups, spawnWorldctl } from '../helpers/worldctl.js';
import { tempDir } from '../helpers/worldfs.js';

let tmp: ReturnType<typeof tempDir>;
let home: string;

const ctl = (...args: string[]) => spawnWorldctl(home, args);

function ok(...args: string[]): string {
  const r = ctl(...args);
  expect(r.code, `worldctl ${args.join(' ')}: ${r.err}`).toBe(0);
  return r.out;
}

interface Ps { pid: number; command: string }
const ps = (w: string) => JSON.parse(ok('ps', w, '--json')) as Ps[];
const daemonPid = (id: string) => Number(cat(join(home, 'worlds', id, 'daemon')).split(' ')[0]);
/** A file's text, or '' when it cannot be read. */
function cat(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}

beforeEach(() => {
  tmp = tempDir('worldos-bystander-');
  home = join(tmp.path, 'home');
  ok('init', '--base', '/');
});

afterEach(() => {
  const worlds = JSON.parse(ctl('list', '--json').out || '[]') as { name: string; parents: string[]; base?: boolean }[];
  for (const w of worlds.filter((x) => !x.base && x.parents.includes('w0'))) ctl('delete', w.name, '--recursive');
  sweepUnder(tmp.path);
  removeStoreCgroups(home);
  rmSync(tmp.path, { recursive: true, force: true });
});

describe('a merge and the worlds it does not merge', () => {
  it('qp keeps q\'s version after pq is merged into x, and its running process and daemon survive', async () => {
    ok('create', 'x');
    ok('create', 'p', '--from', 'x');
    ok('create', 'q', '--from', 'x');
    ok('run', 'p', '--', 'sh', '-c', 'echo "p version" > /f');
    ok('run', 'q', '--', 'sh', '-c', 'echo "q version" > /f');
    ok('create', 'pq', '--from', 'p', '--from', 'q');
    ok('create', 'qp', '--from', 'q', '--from', 'p');
    expect(ok('run', 'pq', '--', 'cat', '/f')).toBe('p version\n');
    expect(ok('run', 'qp', '--', 'cat', '/f')).toBe('q version\n');
    // A process in qp that opens the file before the merge and reads it through that descriptor after.
    ok('run', 'qp', '--detach', '--', 'sh', '-c', 'exec 3< /f; while [ ! -e /go ]; do sleep 0.1; done; cat <&3 > /out; exec sleep 600');
    const sleeper = ps('qp').find((p) => p.command.includes('/go'))!;
    expect(sleeper).toBeDefined();
    const qpId = (JSON.parse(ok('list', '--json')) as { id: string; name: string }[]).find((w) => w.name === 'qp')!.id;
    const daemon = daemonPid(qpId);
    expect(alive(daemon)).toBe(true);

    ok('merge', 'pq', '--into', 'x');

    expect(ok('run', 'x', '--', 'cat', '/f')).toBe('p version\n');
    expect(ok('run', 'qp', '--', 'cat', '/f')).toBe('q version\n');
    expect(ok('ls', 'qp')).toContain('/f');
    // The same daemon serves qp; its process is alive and reads through its (unchanged) root.
    expect(daemonPid(qpId)).toBe(daemon);
    expect(alive(daemon)).toBe(true);
    expect(alive(sleeper.pid)).toBe(true);
    expect(cat(`/proc/${sleeper.pid}/root/f`)).toBe('q version\n');
    ok('run', 'qp', '--', 'touch', '/go');
    await waitFor('the process to read its descriptor', () => cat(`/proc/${sleeper.pid}/root/out`) !== '', 20_000);
    expect(cat(`/proc/${sleeper.pid}/root/out`)).toBe('q version\n');
    expect(alive(sleeper.pid)).toBe(true);
  });
});
