// Progress on long work (issue 15): on a terminal a delete's grace period draws a progress line on
// stderr; when stderr is not a terminal nothing extra is printed. bin/worldctl under a real pty.
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { sweepUnder } from '../helpers/procs.js';
import { spawnWorldctl, WORLDCTL } from '../helpers/worldctl.js';
import { tempDir } from '../helpers/worldfs.js';

let tmp: ReturnType<typeof tempDir>;
let home: string;
const ok = (...args: string[]) => expect(spawnWorldctl(home, args).code, args.join(' ')).toBe(0);

/** bin/worldctl with a terminal as its stdin, stdout and stderr (util-linux `script`): all it wrote there. */
function onTerminal(args: string[]): { code: number; out: string } {
  const r = spawnSync('script', ['-qec', [WORLDCTL, ...args].join(' '), '/dev/null'], { env: { ...process.env, WORLDOS_HOME: home }, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, out: r.stdout };
}

beforeEach(() => {
  tmp = tempDir('worldos-progress-');
  home = join(tmp.path, 'home');
  ok('init', '--base', '/');
});

afterEach(() => {
  for (const w of ['T', 'Q']) spawnWorldctl(home, ['delete', w]);
  sweepUnder(tmp.path);
  tmp.cleanup();
});

// A shell that ignores SIGTERM keeps delete waiting for the whole grace period (5 s).
const stubborn = ['sh', '-c', "trap '' TERM; while :; do sleep 1; done"];

describe('progress lines', () => {
  it('draws the grace period of a delete on a terminal, and clears it', () => {
    ok('create', 'T');
    ok('run', 'T', '--detach', '--', ...stubborn);
    const r = onTerminal(['delete', 'T']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^\r\x1b\[Kwaiting for \d+ process\(es\) of world "T" to exit, SIGKILL after: \d\/5 s/);
    expect(r.out.endsWith('\r\x1b[Kdeleted 1 world\r\n')).toBe(true);
  });

  it('prints nothing extra when stderr is not a terminal', () => {
    ok('create', 'Q');
    ok('run', 'Q', '--detach', '--', ...stubborn);
    expect(spawnWorldctl(home, ['delete', 'Q'])).toEqual({ code: 0, out: 'deleted 1 world\n', err: '' });
  });
});
