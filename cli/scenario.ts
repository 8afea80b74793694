// The paper's scenario, for real, through worldctl: a small mail server (a Node script reading its
// config) runs detached in world Parent. Child1 changes its config, Child2 patches the server,
// Child3 inherits from both and runs the new server on another port; we talk to both over TCP.
// Failing path: delete Child3 while Parent's server keeps answering. Passing path: merge Child1,
// Child2 and Child3 into Parent — files and processes — then stop the old server.
// Shared by `npm run demo` (cli/demo.ts, as root or not) and the tests (as root and as an
// unprivileged user): how worldctl is run is the driver's business.
import { connect } from 'node:net';

export interface ScenarioDriver {
  /** Run worldctl with `args` (stdin: `input`) and return its stdout; throw on a non-zero exit. */
  worldctl(args: readonly string[], input?: string): string;
  /** Narration: a step, a command and what it printed, a greeting. */
  say(line: string): void;
}

/** What the servers answered at each step, and who owned them: the test asserts on it. */
export interface ScenarioOutcome {
  readonly ports: readonly [number, number];
  readonly parentServer: string;
  readonly child3Server: string;
  readonly parentWhileChild3: string;
  readonly child3AfterDelete: string;
  readonly parentAfterDelete: string;
  /** The old server's pid inside Parent, and the servers `ps Parent` listed after the merge. */
  readonly oldServerPid: number;
  readonly serversAfterMerge: readonly ProcessLine[];
  readonly oldAfterStop: string;
  readonly newAfterStop: string;
  readonly parentFilesAfterMerge: string;
}

export interface ProcessLine {
  readonly pid: number;
  readonly nspid: number;
  readonly command: string;
}

const SERVER = `const net = require('net'), fs = require('fs');
const conf = Object.fromEntries(fs.readFileSync('/srv/mail/mail.conf', 'utf8').trim().split('\\n').map((l) => l.split('=')));
net.createServer((s) => s.end('220 ' + conf.banner + ' (server v1)\\r\\n')).listen(Number(conf.port), '127.0.0.1');`;

/** One SMTP-style greeting from a port on localhost, or the error code in parentheses. */
export function greet(port: number): Promise<string> {
  return new Promise((res) => {
    const s = connect(port, '127.0.0.1');
    let data = '';
    s.setTimeout(3000, () => { s.destroy(); res('(timeout)'); });
    s.on('data', (d) => { data += d; });
    s.on('end', () => res(data.trim()));
    s.on('error', (e) => res(`(${(e as NodeJS.ErrnoException).code})`));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until the answer matches (a server starting or stopping); the last answer otherwise. */
async function await_(port: number, want: RegExp, tries = 100): Promise<string> {
  let g = '';
  for (let i = 0; i < tries; i++) {
    g = await greet(port);
    if (want.test(g)) return g;
    await sleep(100);
  }
  return g;
}

/** Two free-looking ports in the dynamic range, different on every run. */
export function scenarioPorts(): [number, number] {
  const p = 40000 + Math.floor(Math.random() * 10000) * 2;
  return [p, p + 1];
}

export async function paperScenario(d: ScenarioDriver, ports = scenarioPorts()): Promise<ScenarioOutcome> {
  const [P1, P2] = ports;
  const ctl = (...args: string[]) => {
    d.say(`$ worldctl ${args.map(quote).join(' ')}`);
    const out = d.worldctl(args);
    if (out) d.say(out.replace(/\n$/, '').replace(/^/gm, '  '));
    return out;
  };
  const servers = (): ProcessLine[] =>
    (JSON.parse(d.worldctl(['ps', 'Parent', '--json'])) as ProcessLine[]).filter((p) => p.command.includes('server.js'));

  d.say('== Parent runs the mail server ==');
  ctl('init', '--base', '/');
  ctl('create', 'Parent');
  ctl('run', 'Parent', '--', 'sh', '-c', `mkdir -p /srv/mail && printf 'port=${P1}\\nbanner=mail.example v1\\n' > /srv/mail/mail.conf`);
  d.say(`$ worldctl run Parent -- sh -c 'cat > /srv/mail/server.js'   # (the server script on stdin)`);
  d.worldctl(['run', 'Parent', '--', 'sh', '-c', 'cat > /srv/mail/server.js'], SERVER);
  ctl('run', 'Parent', '--detach', '--', 'node', '/srv/mail/server.js');
  const parentServer = await await_(P1, /^220/);
  d.say(`  Parent's server on :${P1} says: ${parentServer}`);
  const oldServerPid = servers()[0]?.nspid ?? -1;

  d.say('\n== Child1 changes the config; Child2 patches the server ==');
  ctl('create', 'Child1', '--from', 'Parent');
  ctl('run', 'Child1', '--', 'sh', '-c', `printf 'port=${P2}\\nbanner=mail.example v2\\n' > /srv/mail/mail.conf`);
  ctl('create', 'Child2', '--from', 'Parent');
  ctl('run', 'Child2', '--', 'sed', '-i', 's/server v1/server v2, patched/', '/srv/mail/server.js');

  const child3 = async () => {
    ctl('create', 'Child3', '--from', 'Child1', '--from', 'Child2');
    ctl('run', 'Child3', '--detach', '--', 'node', '/srv/mail/server.js');
    const now = await await_(P2, /v2/);
    d.say(`  Child3's new server on :${P2} says: ${now}`);
    const parent = await greet(P1);
    d.say(`  Parent's old server on :${P1} says: ${parent}`);
    return { now, parent };
  };
  d.say('\n== Child3 inherits from both and runs the new server for a test ==');
  const first = await child3();
  ctl('tree');
  ctl('ls', 'Child3');

  d.say('\n== The test fails: delete Child3 (its server stops; the old one never did) ==');
  ctl('delete', 'Child3');
  const child3AfterDelete = await await_(P2, /^\(/, 30);
  d.say(`  :${P2} now: ${child3AfterDelete}`);
  const parentAfterDelete = await greet(P1);
  d.say(`  Parent's server on :${P1} still says: ${parentAfterDelete}`);

  d.say('\n== Try again; the test passes: merge Child1, Child2 and Child3 into Parent, files and processes ==');
  await child3();
  ctl('merge', 'Child3', '--into', 'Parent');
  ctl('tree');
  const parentFilesAfterMerge = ctl('ls', 'Parent');

  d.say('\n== The new server now belongs to Parent; stop the old one ==');
  const serversAfterMerge = servers();
  d.say(`  Parent's servers: ${serversAfterMerge.map((p) => `pid ${p.nspid} (host ${p.pid})`).join(', ')}; the old one is pid ${oldServerPid}`);
  ctl('run', 'Parent', '--', 'kill', String(oldServerPid));
  const oldAfterStop = await await_(P1, /^\(/, 30);
  d.say(`  :${P1} (old server) now: ${oldAfterStop}`);
  const newAfterStop = await greet(P2);
  d.say(`  :${P2} (new server, now Parent's) says: ${newAfterStop}`);
  ctl('ps', 'Parent');
  return {
    ports, parentServer, child3Server: first.now, parentWhileChild3: first.parent, child3AfterDelete, parentAfterDelete,
    oldServerPid, serversAfterMerge, oldAfterStop, newAfterStop, parentFilesAfterMerge,
  };
}

function quote(a: string): string {
  return /[\s"'$;|&<>()\\]/.test(a) ? `'${a.replace(/'/g, "'\\''")}'` : a;
}
