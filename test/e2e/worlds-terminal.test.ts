// `worldctl run` in the foreground passes the terminal through: an interactive program sees a tty
// and reads what is typed; Ctrl-C reaches the program inside the world, and worldctl exits with
// its status. The terminal is a real pty, made by util-linux `script`.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sweepUnder } from '../helpers/procs.js';
import { WORLDCTL } from '../helpers/worldctl.js';
import { tempDir } from '../helpers/worldfs.js';

let tmp: ReturnType<typeof tempDir>;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  tmp = tempDir('worldos-tty-');
  env = { ...process.env, WORLDOS_HOME: join(tmp.path, 'home') };
  for (const args of [['init', '--base', '/'], ['create', 'T']]) {
    const r = spawnSync(WORLDCTL, args, { env, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }
});

afterAll(() => {
  spawnSync(WORLDCTL, ['delete', 'T'], { env });
  sweepUnder(tmp.path);
  rmSync(tmp.path, { recursive: true, force: true });
});

/** Run `worldctl run T -- sh -c SCRIPT` on a pty; `drive` talks to it. Resolves with output and status. */
function onPty(script: string, drive: (write: (s: string) => void, output: () => string) => Promise<void>): Promise<{ out: string; code: number | null }> {
  const cmd = `${WORLDCTL} run T -- sh -c '${script}'`;
  const child = spawn('script', ['-qefc', cmd, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const done = new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
  const bound = setTimeout(() => child.kill('SIGKILL'), 120_000); // a hang detector, not a speed check
  return drive((s) => child.stdin.write(s), () => out)
    .then(() => done)
    .then((code) => { clearTimeout(bound); child.stdin.end(); return { out, code }; });
}

async function waitFor(output: () => string, text: string): Promise<void> {
  for (let i = 0; i < 600 && !output().includes(text); i++) await new Promise((r) => setTimeout(r, 100));
  expect(output()).toContain(text);
}

describe('the terminal in a world', () => {
  it('an interactive program sees a terminal and reads what is typed', async () => {
    const r = await onPty('test -t 0 && test -t 1 && echo on-a-tty; printf "name? "; read name; echo "hello, $name"', async (write, output) => {
      await waitFor(output, 'name? ');
      write('world\r');
    });
    expect(r.out).toContain('on-a-tty');
    expect(r.out).toContain('hello, world');
    expect(r.code).toBe(0);
  });

  it('Ctrl-C reaches the program inside the world, and worldctl exits with its status (130)', async () => {
    const r = await onPty('trap "echo caught-INT; exit 130" INT; echo ready; while :; do sleep 1; done', async (write, output) => {
      await waitFor(output, 'ready');
      write('\x03');
    });
    expect(r.out).toContain('caught-INT');
    expect(r.code).toBe(130);
  });
});
