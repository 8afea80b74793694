// `npm run demo`: the worlds scenario on the filesystem level, for real — three child views over a
// parent layer, one of them with two parents, each served by its own worldfs daemon.
// (World operations and processes arrive with worldctl; this shows the copy-on-write views.)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const worldfs = join(repo, 'bin', 'worldfs');
const mounts: string[] = [];

function say(s: string): void {
  process.stdout.write(s + '\n');
}

function mount(name: string, lowers: string[], upper: string, mnt: string): void {
  mkdirSync(mnt, { recursive: true });
  execFileSync(worldfs, ['-o', `lowerdir=${lowers.join(':')},upperdir=${upper}`, mnt], { stdio: 'inherit' });
  mounts.push(mnt);
  say(`  mounted ${name}: ${mnt}  (layers: own ${upper.split('/').pop()} over ${lowers.map((l) => l.split('/').pop()).join(', ')})`);
}

function tree(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name)).flatMap((d) =>
    d.isDirectory() ? tree(join(dir, d.name), prefix + d.name + '/') : [prefix + d.name]);
}

function main(): void {
  const base = mkdtempSync(join(tmpdir(), 'worldos-demo-'));
  const layer = (n: string) => { const p = join(base, 'layers', n); mkdirSync(p, { recursive: true }); return p; };
  const parent = layer('Parent');
  const c1 = layer('Child1');
  const c2 = layer('Child2');
  const c3 = layer('Child3');
  try {
    writeFileSync(join(parent, 'mail.conf'), 'port=2525\nbanner=old\n');
    writeFileSync(join(parent, 'server.sh'), 'echo serving with $(cat mail.conf)\n');
    writeFileSync(join(parent, 'obsolete.txt'), 'to be removed by a patch\n');
    say('Parent layer: ' + tree(parent).join(', '));

    say('\nChild1 changes the config:');
    mount('Child1', [parent], c1, join(base, 'mnt', 'Child1'));
    writeFileSync(join(base, 'mnt/Child1/mail.conf'), 'port=2526\nbanner=new\n');
    say('  Child1 sees mail.conf = ' + JSON.stringify(readFileSync(join(base, 'mnt/Child1/mail.conf'), 'utf8')));

    say('\nChild2 patches the server and deletes a file:');
    mount('Child2', [parent], c2, join(base, 'mnt', 'Child2'));
    writeFileSync(join(base, 'mnt/Child2/server.sh'), 'echo patched server with $(cat mail.conf)\n');
    unlinkSync(join(base, 'mnt/Child2/obsolete.txt'));

    say('\nChild3 inherits from Child1 and Child2 (own layer, then Child1, Child2, Parent):');
    mount('Child3', [c1, c2, parent], c3, join(base, 'mnt', 'Child3'));
    const v = join(base, 'mnt/Child3');
    say('  Child3 view: ' + tree(v).join(', '));
    say('  Child3 mail.conf: ' + JSON.stringify(readFileSync(join(v, 'mail.conf'), 'utf8')));
    say('  Child3 server.sh: ' + JSON.stringify(readFileSync(join(v, 'server.sh'), 'utf8')));

    say('\nWhat each layer holds (copy-on-write: only changes, whiteouts mark deletions):');
    for (const [n, p] of [['Parent', parent], ['Child1', c1], ['Child2', c2], ['Child3', c3]] as const) {
      say(`  ${n.padEnd(7)} ${tree(p).filter((x) => !x.startsWith('.wh..wh.')).join(', ') || '(nothing)'}`);
    }
    say('\nParent is untouched: mail.conf = ' + JSON.stringify(readFileSync(join(parent, 'mail.conf'), 'utf8')));
  } finally {
    for (const m of mounts.reverse()) {
      try { execFileSync('umount', [m]); } catch { execFileSync('umount', ['-l', m]); }
    }
    rmSync(base, { recursive: true, force: true });
    say('\nAll views unmounted, temporary layers removed.');
  }
}

main();
