// `npm run demo`: the paper's scenario on files, for real, through worldctl: a mail server's files
// live in world Parent; Child1 changes its config, Child2 patches it, Child3 inherits from both.
// The failing path deletes Child3 (Parent untouched); the passing path merges all three into
// Parent. Processes inside worlds arrive with the container issue.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const base = mkdtempSync(join(tmpdir(), 'worldos-demo-'));
const home = join(base, 'store');
const env = { ...process.env, WORLDOS_HOME: home };
const mounted = new Set<string>();

function say(s = ''): void {
  process.stdout.write(s + '\n');
}

/** Run worldctl, echoing the command and its output. */
function worldctl(...args: string[]): string {
  say(`$ worldctl ${args.map((a) => (/[\s"]/.test(a) ? JSON.stringify(a) : a)).join(' ')}`);
  const out = execFileSync(join(repo, 'bin', 'worldctl'), args, { env, encoding: 'utf8' });
  process.stdout.write(out.replace(/^/gm, '  ').replace(/ {2}$/, ''));
  return out.trim();
}

function mount(world: string): string {
  const at = worldctl('mount', world);
  mounted.add(world);
  return at;
}

function umount(world: string): void {
  worldctl('umount', world);
  mounted.delete(world);
}

function main(): void {
  const root = join(base, 'rootfs');
  mkdirSync(join(root, 'etc'), { recursive: true });
  mkdirSync(join(root, 'srv'), { recursive: true });
  writeFileSync(join(root, 'etc/mail.conf'), 'port=2525\nbanner=worldos mail v1\n');
  writeFileSync(join(root, 'srv/server.sh'), '#!/bin/sh\necho "serving $(cat /etc/mail.conf)"\n');
  writeFileSync(join(root, 'srv/legacy.txt'), 'an obsolete file the patch removes\n');
  say(`A small root filesystem for the mail server is at ${root}.\n`);

  worldctl('init', '--base', root);
  worldctl('create', 'Parent');
  say('\n== Child1 changes the config ==');
  worldctl('create', 'Child1', '--from', 'Parent');
  let m = mount('Child1');
  writeFileSync(join(m, 'etc/mail.conf'), 'port=2526\nbanner=worldos mail v2\n');
  umount('Child1');

  say('\n== Child2 applies a patch: changes the server, deletes a file ==');
  worldctl('create', 'Child2', '--from', 'Parent');
  m = mount('Child2');
  writeFileSync(join(m, 'srv/server.sh'), '#!/bin/sh\necho "patched server: $(cat /etc/mail.conf)"\n');
  unlinkSync(join(m, 'srv/legacy.txt'));
  umount('Child2');

  const child3 = () => {
    worldctl('create', 'Child3', '--from', 'Child1', '--from', 'Child2');
    const v = mount('Child3');
    say(`  Child3 sees etc/mail.conf = ${JSON.stringify(readFileSync(join(v, 'etc/mail.conf'), 'utf8'))}`);
    say(`  Child3 sees srv/server.sh = ${JSON.stringify(readFileSync(join(v, 'srv/server.sh'), 'utf8'))}`);
    writeFileSync(join(v, 'srv/test-result.txt'), 'new server tested\n');
    return v;
  };
  say('\n== Child3 inherits from Child1 and Child2 and runs the test ==');
  child3();
  worldctl('tree');
  worldctl('ls', 'Child3');

  say('\n== The test fails: delete Child3 ==');
  umount('Child3');
  worldctl('delete', 'Child3');
  m = mount('Parent');
  say(`  Parent untouched: etc/mail.conf = ${JSON.stringify(readFileSync(join(m, 'etc/mail.conf'), 'utf8'))}`);

  say('\n== Try again; the test passes: merge Child1, Child2 and Child3 into Parent (one command) ==');
  child3();
  umount('Child3');
  worldctl('merge', 'Child3', '--into', 'Parent');
  say(`  Parent (still mounted) now: etc/mail.conf = ${JSON.stringify(readFileSync(join(m, 'etc/mail.conf'), 'utf8'))}`);
  say(`  srv/server.sh = ${JSON.stringify(readFileSync(join(m, 'srv/server.sh'), 'utf8'))}`);
  worldctl('ls', 'Parent');
  worldctl('tree');
  umount('Parent');
}

try {
  main();
} finally {
  for (const w of mounted) {
    try { execFileSync(join(repo, 'bin', 'worldctl'), ['umount', w], { env, stdio: 'ignore' }); } catch { /* best effort */ }
  }
  rmSync(base, { recursive: true, force: true });
  say('\nAll worlds unmounted; the demo store is removed.');
}
