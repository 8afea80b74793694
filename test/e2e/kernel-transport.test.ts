// What only the kernel-protocol transport (transport=kernel) can do, and fuse-native cannot: new
// files and directories belong to the calling user (setgid directories and the umask honoured),
// every name of a hard link is one inode, long caching with a reload that invalidates it at once,
// suid/dev mounts as root, requests read by busy polling, and a clean exit when unmounted from outside.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { daemonStats, isMounted, mountWorldfs, stackDirs, statsDuring, tempDirsEachTest, type Mounted } from '../helpers/worldfs.js';

const scratch = tempDirsEachTest('worldos-kernel-');

async function mount(options: string[] = [], prepare?: (lower: string) => void) {
  const dir = scratch();
  chmodSync(dir, 0o755); // uid 1000 must reach the mountpoint
  const d = stackDirs(dir, 1);
  prepare?.(d.lowers[0]!);
  const m = await mountWorldfs({ ...d, options: ['transport=kernel', ...options] });
  return { ...d, base: dir, m };
}

/** Run a shell command as uid/gid 1000 with umask `umask`. */
function asUser(cmd: string, umask = '022'): void {
  const r = spawnSync('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', 'sh', '-c', `umask ${umask}; ${cmd}`], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
}

function mountOptionsOf(m: Mounted): string[] {
  const line = readFileSync('/proc/self/mounts', 'utf8').split('\n').find((l) => l.split(' ')[1] === m.mnt);
  return line?.split(' ')[3]?.split(',') ?? [];
}

describe('the kernel transport', () => {
  it('gives new files, directories, symlinks and fifos to the calling user, with the umask applied', async () => {
    const { mnt, upper } = await mount([], (l) => { mkdirSync(join(l, 'pub')); chmodSync(join(l, 'pub'), 0o777); });
    asUser(`echo x > ${mnt}/pub/f; mkdir ${mnt}/pub/d; ln -s f ${mnt}/pub/l; mkfifo ${mnt}/pub/p`, '027');
    for (const [name, mode] of [['f', 0o640], ['d', 0o750], ['p', 0o640]] as const) {
      const st = lstatSync(join(mnt, 'pub', name));
      expect([name, st.uid, st.gid, st.mode & 0o7777]).toEqual([name, 1000, 1000, mode]);
      expect(lstatSync(join(upper, 'pub', name)).uid).toBe(1000); // in the layer itself, not just reported
    }
    expect([lstatSync(join(mnt, 'pub/l')).uid, lstatSync(join(mnt, 'pub/l')).gid]).toEqual([1000, 1000]);
  });

  it('honours setgid directories: the group is the directory\'s and new directories inherit the bit', async () => {
    const { mnt } = await mount([], (l) => {
      mkdirSync(join(l, 'shared'));
      chownSync(join(l, 'shared'), 0, 50);
      chmodSync(join(l, 'shared'), 0o2777);
    });
    asUser(`echo x > ${mnt}/shared/f; mkdir ${mnt}/shared/d`);
    const f = statSync(join(mnt, 'shared/f'));
    const d = statSync(join(mnt, 'shared/d'));
    expect([f.uid, f.gid]).toEqual([1000, 50]);
    expect([d.uid, d.gid, d.mode & 0o2000]).toEqual([1000, 50, 0o2000]);
  });

  it('shows every name of a hard link as one inode, also for a link to a lower file', async () => {
    const { mnt } = await mount([], (l) => writeFileSync(join(l, 'low'), 'low'));
    linkSync(join(mnt, 'low'), join(mnt, 'second'));
    writeFileSync(join(mnt, 'new'), 'new');
    linkSync(join(mnt, 'new'), join(mnt, 'new2'));
    for (const [a, b] of [['low', 'second'], ['new', 'new2']] as const) {
      const sa = statSync(join(mnt, a));
      const sb = statSync(join(mnt, b));
      expect([sa.ino, sa.nlink]).toEqual([sb.ino, 2]);
    }
    writeFileSync(join(mnt, 'second'), 'changed through the second name');
    expect(readFileSync(join(mnt, 'low'), 'utf8')).toBe('changed through the second name');
  });

  it('keeps two names of a lower hard link apart: a write through one copies up that one (the link breaks, as in overlayfs)', async () => {
    const { mnt, upper } = await mount([], (l) => {
      writeFileSync(join(l, 'h1'), 'lower data');
      linkSync(join(l, 'h1'), join(l, 'h2'));
    });
    expect(statSync(join(mnt, 'h1')).ino).toBe(statSync(join(mnt, 'h2')).ino); // both known to the kernel
    writeFileSync(join(mnt, 'h1'), 'written through h1');
    expect(readFileSync(join(mnt, 'h1'), 'utf8')).toBe('written through h1');
    expect(readFileSync(join(mnt, 'h2'), 'utf8')).toBe('lower data');
    expect(readFileSync(join(upper, 'h1'), 'utf8')).toBe('written through h1');
    expect(statSync(join(upper, 'h2'), { throwIfNoEntry: false })).toBeUndefined();
  });

  it('caches for timeout= seconds, yet shows a new layer stack at once after a reload', async () => {
    const dir = scratch();
    const a = stackDirs(join(dir, 'a'), 1);
    const b = stackDirs(join(dir, 'b'), 1);
    writeFileSync(join(a.lowers[0]!, 'f'), 'from stack a');
    writeFileSync(join(b.lowers[0]!, 'f'), 'from stack b, longer');
    writeFileSync(join(b.lowers[0]!, 'only-b'), 'b');
    const stack = join(dir, 'stack.json');
    const m = await mountWorldfs({ ...a, options: ['transport=kernel', 'timeout=600', `stack=${stack}`] });
    expect(readFileSync(join(a.mnt, 'f'), 'utf8')).toBe('from stack a');
    expect(statSync(join(a.mnt, 'f')).size).toBe(12);
    expect(() => statSync(join(a.mnt, 'only-b'))).toThrow(/ENOENT/); // a negative entry, cached for 600 s
    writeFileSync(stack, JSON.stringify({ lowerdirs: b.lowers, upperdir: b.upper, workdir: b.work }));
    process.kill(m.proc.pid!, 'SIGUSR1');
    for (let i = 0; i < 200 && !existsOk(stack + '.ok'); i++) await new Promise((r) => setTimeout(r, 25));
    // The notifications are written asynchronously, right after the switch: poll briefly, far below 600 s.
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline && statSync(join(a.mnt, 'f')).size !== 20) await new Promise((r) => setTimeout(r, 20));
    expect(statSync(join(a.mnt, 'f')).size).toBe(20);
    expect(readFileSync(join(a.mnt, 'f'), 'utf8')).toBe('from stack b, longer');
    expect(readFileSync(join(a.mnt, 'only-b'), 'utf8')).toBe('b');
  });

  it('mounts nosuid,nodev by default and suid,dev when asked (as root)', async () => {
    const plain = await mount();
    expect(mountOptionsOf(plain.m)).toEqual(expect.arrayContaining(['nosuid', 'nodev']));
    const open = await mount(['suid', 'dev']);
    expect(mountOptionsOf(open.m)).not.toContain('nosuid');
    expect(mountOptionsOf(open.m)).not.toContain('nodev');
  });

  it('reads requests by busy polling once the device is dry (busy_poll=), and never with busy_poll=0; the answers are the same', async () => {
    // One client, 2,000 requests no cache answers (getxattr of an absent name), each issued as soon as
    // the last is answered: with a window of up to 10 ms, some must be read while the daemon spins.
    const burst = (mnt: string) => spawnSync('python3', ['-c', `
import errno, os
n = 0
for i in range(2000):
    try: os.getxattr('${mnt}/f', 'user.absent')
    except OSError as e:
        if e.errno == errno.ENODATA: n += 1
print(n)`], { encoding: 'utf8' });
    for (const [option, spins] of [['busy_poll=10000', true], ['busy_poll=0', false]] as const) {
      const { mnt, m } = await mount([option], (l) => writeFileSync(join(l, 'f'), 'x'));
      const stats = await statsDuring(m, () => expect(burst(mnt).stdout.trim()).toBe('2000'));
      expect([option, stats['op.getxattr']]).toEqual([option, 2000]);
      if (spins) expect([option, stats.spinsCaught! > 0]).toEqual([option, true]);
      else expect([option, stats.spins, (await daemonStats(m)).busyPollWindowUs]).toEqual([option, 0, 0]);
    }
  });

  it('exits by itself when unmounted from outside', async () => {
    const { mnt, m } = await mount();
    execFileSync('umount', [mnt]);
    const code = await new Promise<number | null>((res) => {
      if (m.proc.exitCode !== null) return res(m.proc.exitCode);
      m.proc.once('exit', (c) => res(c));
    });
    expect(code).toBe(0);
    expect(isMounted(mnt)).toBe(false);
  });
});

function existsOk(p: string): boolean {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
}
