// `npm run demo`: the paper's scenario, for real, through worldctl. A small mail server (a Node
// script reading its config) runs detached in world Parent. Child1 changes its config, Child2
// patches the server, Child3 inherits from both and runs the new server on another port; we talk
// to both over TCP. Failing path: delete Child3 while Parent's server keeps answering. Passing
// path: merge Child1, Child2 and Child3 into Parent — files and processes — then stop the old server.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const base = mkdtempSync(join(tmpdir(), 'worldos-demo-'));
const env = { ...process.env, WORLDOS_HOME: join(base, 'store') };

const SERVER = `const net = require('net'), fs = require('fs');
const conf = Object.fromEntries(fs.readFileSync('/srv/mail/mail.conf', 'utf8').trim().split('\\n').map((l) => l.split('=')));
net.createServer((s) => s.end('220 ' + conf.banner + ' (server v1)\\r\\n')).listen(Number(conf.port), '127.0.0.1');`;

function say(s = ''): void {
  process.stdout.write(s + '\n');
}

function worldctl(...args: string[]): string {
  say(`$ worldctl ${args.map((a) => (/[\s"'$;|&<>()]/.test(a) ? `'${a.replace(/'/g, "'\\''")}'` : a)).join(' ')}`);
  const out = execFileSync(join(repo, 'bin', 'worldctl'), args, { env, encoding: 'utf8' });
  if (out) process.stdout.write(out.replace(/^/gm, '  ').replace(/ {2}$/, ''));
  return out.trim();
}

/** One SMTP-style greeting from a port on localhost, or the error. */
function greet(port: number): Promise<string> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    let data = '';
    s.setTimeout(3000, () => { s.destroy(); res('(timeout)'); });
    s.on('data', (d) => { data += d; });
    s.on('end', () => res(data.trim()));
    s.on('error', (e) => res(`(${(e as NodeJS.ErrnoException).code})`));
  });
}

async function waitGreet(port: number, want: RegExp): Promise<string> {
  for (let i = 0; i < 60; i++) {
    const g = await greet(port);
    if (want.test(g)) return g;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no greeting matching ${want} on port ${port}`);
}

async function main(): Promise<void> {
  const P1 = 40000 + Math.floor(Math.random() * 10000);
  const P2 = P1 + 1;
  worldctl('init', '--base', '/');
  worldctl('create', 'Parent');
  worldctl('run', 'Parent', '--', 'sh', '-c', `mkdir -p /srv/mail && printf 'port=${P1}\\nbanner=mail.example v1\\n' > /srv/mail/mail.conf`);
  say('$ worldctl run Parent -- sh -c \'cat > /srv/mail/server.js\'   # (the server script on stdin)');
  execFileSync(join(repo, 'bin', 'worldctl'), ['run', 'Parent', '--', 'sh', '-c', 'cat > /srv/mail/server.js'], { env, input: SERVER });
  worldctl('run', 'Parent', '--detach', '--', 'node', '/srv/mail/server.js');
  say(`  Parent's server on :${P1} says: ${await waitGreet(P1, /220/)}`);

  say('\n== Child1 changes the config; Child2 patches the server ==');
  worldctl('create', 'Child1', '--from', 'Parent');
  worldctl('run', 'Child1', '--', 'sh', '-c', `printf 'port=${P2}\\nbanner=mail.example v2\\n' > /srv/mail/mail.conf`);
  worldctl('create', 'Child2', '--from', 'Parent');
  worldctl('run', 'Child2', '--', 'sed', '-i', 's/server v1/server v2, patched/', '/srv/mail/server.js');

  const child3 = async () => {
    worldctl('create', 'Child3', '--from', 'Child1', '--from', 'Child2');
    worldctl('run', 'Child3', '--detach', '--', 'node', '/srv/mail/server.js');
    say(`  Child3's new server on :${P2} says: ${await waitGreet(P2, /v2/)}`);
    say(`  Parent's old server on :${P1} says: ${await greet(P1)}`);
  };
  say('\n== Child3 inherits from both and runs the new server for a test ==');
  await child3();
  worldctl('tree');
  worldctl('ls', 'Child3');

  say('\n== The test fails: delete Child3 (its server stops; the old one never did) ==');
  worldctl('delete', 'Child3');
  say(`  :${P2} now: ${await greet(P2)}`);
  say(`  Parent's server on :${P1} still says: ${await greet(P1)}`);

  say('\n== Try again; the test passes: merge Child1, Child2 and Child3 into Parent, files and processes ==');
  await child3();
  worldctl('merge', 'Child3', '--into', 'Parent');
  worldctl('tree');
  worldctl('ls', 'Parent');
  say('\n== The new server now belongs to Parent; stop the old one ==');
  const ps = JSON.parse(execFileSync(join(repo, 'bin', 'worldctl'), ['ps', 'Parent', '--json'], { env, encoding: 'utf8' })) as { pid: number; nspid: number; command: string }[];
  const servers = ps.filter((p) => p.command.includes('server.js'));
  const old = servers[0]!;
  worldctl('run', 'Parent', '--', 'kill', String(old.nspid));
  await new Promise((r) => setTimeout(r, 300));
  say(`  :${P1} (old server) now: ${await greet(P1)}`);
  say(`  :${P2} (new server, now Parent's) says: ${await greet(P2)}`);
  worldctl('ls', 'Parent');
}

main()
  .catch((e: Error) => {
    process.stderr.write(`demo failed: ${e.message}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    try {
      execFileSync(join(repo, 'bin', 'worldctl'), ['delete', 'Parent', '--recursive'], { env, stdio: 'ignore' });
    } catch { /* nothing to delete */ }
    rmSync(base, { recursive: true, force: true });
    say('\nDeleted Parent (its processes and view); the demo store is removed.');
  });
