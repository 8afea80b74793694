// `worldctl run` in the foreground passes the terminal through: an interactive program sees a tty
// and reads what is typed; Ctrl-C reaches the program inside the world (once), and worldctl exits
// with its status. The terminal is a real pty, made by util-linux `script`. Like `docker run` in
// the foreground, SIGINT, SIGTERM, SIGHUP and SIGQUIT sent to worldctl alone reach the command,
// and worldctl exits with 128+N when the command dies of signal N (issue 13, points 6 and 7).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBounded, sweepUnder, waitFor } from '../helpers/procs.js';
import { WORLDCTL } from '../helpers/worldctl.js';
import { tempDir } from '../helpers/worldfs.js';

let tmp: ReturnType<typeof tempDir>;
let env: NodeJS.ProcessEnv;
/** The environment of `worldctl run`: env, and which path it must take. */
let runEnv: NodeJS.ProcessEnv;

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
  // The terminal's shell says when worldctl returned (and would take the terminal back).
  const cmd = `${WORLDCTL} run T -- sh -c '${script}'; s=$?; echo worldctl-returned; exit $s`;
  // script(1) runs cmd with $SHELL, and the terminal's Ctrl-C reaches that shell too. bash waits to
  // see whether its child died of the SIGINT (and goes on when worldctl exited with 130); dash, the
  // /bin/sh a CI job may have as $SHELL, dies of it at once. The terminal's shell is bash here.
  const child = spawn('script', ['-qefc', cmd, '/dev/null'], { env: { ...runEnv, SHELL: '/bin/bash' }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { out += d; });
  const done = new Promise<number | null>((res) => child.once('exit', (c) => res(c)));
  const bound = setTimeout(() => child.kill('SIGKILL'), 120_000); // a hang detector, not a speed check
  return drive((s) => child.stdin.write(s), () => out)
    .then(() => done)
    .then((code) => { clearTimeout(bound); child.stdin.end(); return { out, code }; });
}

async function waitForOutput(output: () => string, text: string): Promise<void> {
  for (let i = 0; i < 600 && !output().includes(text); i++) await new Promise((r) => setTimeout(r, 100));
  expect(output()).toContain(text);
}

/** The command lines `worldctl ps T` lists. */
function psOfT(): string {
  return spawnSync(WORLDCTL, ['ps', 'T'], { env, encoding: 'utf8' }).stdout;
}

// Each case runs twice: through Node (WORLDCTL_FASTPATH=off) and through dist/worldrun, which must
// take it (require: exit 125 otherwise), on the ticket the Node runs left (src/worlds/run-ticket.ts).
for (const path of ['off', 'require'] as const) {
describe(path === 'off' ? 'worldctl run through Node' : 'worldctl run through dist/worldrun', () => {
  beforeAll(() => { runEnv = { ...env, WORLDCTL_FASTPATH: path }; });

  describe('the terminal in a world', () => {
    it('an interactive program sees a terminal and reads what is typed', async () => {
      const r = await onPty('test -t 0 && test -t 1 && echo on-a-tty; printf "name? "; read name; echo "hello, $name"', async (write, output) => {
        await waitForOutput(output, 'name? ');
        write('world\r');
      });
      expect(r.out).toContain('on-a-tty');
      expect(r.out).toContain('hello, world');
      expect(r.code).toBe(0);
    });

    it('Ctrl-C reaches the program inside the world, and worldctl exits with its status (130)', async () => {
      // The handler takes a second: worldctl must not return (and hand the terminal back) before it ends.
      const r = await onPty('trap "sleep 1; echo caught-INT; exit 130" INT; echo ready; while :; do sleep 1; done', async (write, output) => {
        await waitForOutput(output, 'ready');
        write('\x03');
      });
      expect(r.out).toContain('caught-INT');
      expect(r.out.indexOf('caught-INT')).toBeLessThan(r.out.indexOf('worldctl-returned'));
      expect(r.code).toBe(130);
    });

    it('a real Ctrl-C ends a command that does not handle it, and worldctl exits 130 (128+SIGINT)', async () => {
      const r = await onPty('echo ready; exec sleep 300', async (write, output) => {
        await waitForOutput(output, 'ready');
        await waitFor('sleep 300 in the world', () => psOfT().includes('sleep 300'), 60_000);
        write('\x03');
      });
      expect(r.code).toBe(130);
      expect(psOfT()).not.toContain('sleep 300');
    });

    it('a Ctrl-C reaches the command once, not again through worldctl', async () => {
      const counter = 'import signal, sys, time; n = [0]; signal.signal(signal.SIGINT, lambda *a: n.__setitem__(0, n[0] + 1)); print("ready", flush=True); sys.stdin.readline(); time.sleep(1); print("INTs:", n[0], flush=True)';
      const r = await onPty(`exec python3 -c '"'"'${counter}'"'"'`, async (write, output) => {
        await waitForOutput(output, 'ready');
        write('\x03');
        write('\r');
      });
      expect(r.out).toContain('INTs: 1');
      expect(r.code).toBe(0);
    });
  });

  describe('signals sent to worldctl alone', () => {
    for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT'] as const) {
      it(`${sig} reaches the command in the world, and worldctl exits with 128+${constants.signals[sig]}`, async () => {
        const marker = `sleep 3${constants.signals[sig]}0`; // a command line of its own per case
        const child = spawn(WORLDCTL, ['run', 'T', '--', 'sh', '-c', `exec ${marker}`], { env: runEnv, stdio: 'ignore' });
        const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
        const bound = setTimeout(() => child.kill('SIGKILL'), 120_000); // a hang detector, not a speed check
        await waitFor(`${marker} in the world`, () => psOfT().includes(marker), 60_000);
        child.kill(sig);
        const code = await exited;
        clearTimeout(bound);
        expect(code).toBe(128 + constants.signals[sig]);
        expect(psOfT()).not.toContain(marker);
      });
    }
  });

  describe('how a command enters the world', () => {
    it('through util-linux nsenter, whose child is the shim, the command\'s parent; ps lists neither', async () => {
      const child = spawn(WORLDCTL, ['run', 'T', '--', 'sh', '-c', 'exec sleep 377'], { env: runEnv, stdio: 'ignore' });
      const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
      try {
        await waitFor('sleep 377 in the world', () => psOfT().includes('sleep 377'), 60_000);
        const row = psOfT().split('\n').find((l) => l.includes('sleep 377'))!;
        const parentOf = (pid: number) => Number(/^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
        const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
        const shim = parentOf(Number(row.trim().split(/\s+/)[0]));
        expect(cmdline(shim)).toMatch(/^\/proc\/self\/fd\/\d+ --self \d+ .*--world T .*-- sh -c exec sleep 377/);
        expect(cmdline(parentOf(shim))).toMatch(/^nsenter --target=\d+ .*--pid --mount --uts --ipc --root --wd -- \/proc\/self\/fd\//);
        expect(psOfT().split('\n').filter((l) => l.includes('sleep 377'))).toHaveLength(1);
      } finally {
        child.kill('SIGTERM');
      }
      expect(await exited).toBe(128 + constants.signals.SIGTERM);
    });
  });

  describe('a command that is not there', () => {
    it('says which world and which command, and worldctl exits 127', async () => {
      const r = await runBounded(WORLDCTL, ['run', 'T', '--', 'no-such-command-here', 'arg'], { env: runEnv, timeoutMs: 120_000 });
      expect(r.status).toBe(127);
      expect(r.stderr).toMatch(/world "T".*no-such-command-here/);
    });
  });
});
}
