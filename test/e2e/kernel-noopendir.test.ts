// Zero-message opendir (kernel transport): where every layer's changes are reported at the first
// OPENDIR, it is answered ENOSYS and the kernel opens directories itself from then on, keeping
// their listings (fs/transport/kernel/dirs.ts). Directory streams must behave as before — every name
// once, telldir/seekdir, changes through the view at once, lower changes once reported, a removed
// directory still open — and when notification degrades, cached listings must again be bounded by
// timeout=. Each behaviour runs with handles (notify=none) and without (notify=inotify) as the oracle.
import { spawnSync } from 'node:child_process';
import { chmodSync, closeSync, fstatSync, mkdirSync, openSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync, constants } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exists, soon } from '../helpers/procs.js';
import { daemonStats, mountFencedStack, statsDuring, tempDirsEachTest } from '../helpers/worldfs.js';

const scratch = tempDirsEachTest('worldos-noopendir-', () => {
  delete process.env.WORLDFS_WATCH_BUDGET;
  delete process.env.WORLDFS_FANOTIFY;
});

const NOTIFIED = ['transport=kernel', 'notify=inotify', 'timeout=3600', 'notify_timeout=3600'];
const MODES = [
  { mode: 'the kernel opens directories itself (notify=inotify)', options: NOTIFIED, kernelOpens: true },
  { mode: 'directory handles (notify=none)', options: ['transport=kernel', 'notify=none', 'timeout=0'], kernelOpens: false },
];

async function mount(options: readonly string[], prepare: (l0: string, l1: string) => void = () => {}) {
  return mountFencedStack(scratch(), 2, options, (lowers) => prepare(lowers[0]!, lowers[1]!));
}

/**
 * Directory streams through libc (opendir/readdir/telldir/seekdir, which Node lacks), in Python.
 * `read DIR`: every name with the telldir position before it. `seek DIR POS...`: the name read
 * after each seekdir. `interleave DIR NEW`: read half the stream, create DIR/NEW* through the
 * view, let another process (ls) list DIR, then read the rest: every name read, in order.
 */
const STREAMS = `
import ctypes, json, os, subprocess, sys
libc = ctypes.CDLL(None, use_errno=True)
class Dirent(ctypes.Structure):
    _fields_ = [('ino', ctypes.c_uint64), ('off', ctypes.c_int64), ('reclen', ctypes.c_ushort), ('type', ctypes.c_ubyte), ('name', ctypes.c_char * 256)]
libc.opendir.restype = ctypes.c_void_p; libc.opendir.argtypes = [ctypes.c_char_p]
libc.readdir.restype = ctypes.POINTER(Dirent); libc.readdir.argtypes = [ctypes.c_void_p]
libc.telldir.restype = ctypes.c_long; libc.telldir.argtypes = [ctypes.c_void_p]
libc.seekdir.argtypes = [ctypes.c_void_p, ctypes.c_long]; libc.closedir.argtypes = [ctypes.c_void_p]
def one(d):
    ctypes.set_errno(0)
    e = libc.readdir(d)
    if not e:
        if ctypes.get_errno(): raise OSError(ctypes.get_errno(), 'readdir')
        return None
    return e.contents.name.decode()
mode, path = sys.argv[1], sys.argv[2]
d = libc.opendir(path.encode())
if not d: raise OSError(ctypes.get_errno(), path)
if mode == 'read':
    out = []
    while True:
        pos = libc.telldir(d); n = one(d)
        if n is None: break
        out.append([n, pos])
elif mode == 'seek':
    out = []
    for pos in sys.argv[3:]:
        libc.seekdir(d, int(pos)); out.append(one(d))
else:
    out = []
    total = len(os.listdir(path))
    while len(out) < total // 2: out.append(one(d))
    for i in range(50): open(os.path.join(path, sys.argv[3] + str(i)), 'w').close()
    subprocess.run(['ls', '-f', path], stdout=subprocess.DEVNULL, check=True)
    while True:
        n = one(d)
        if n is None: break
        out.append(n)
libc.closedir(d)
print(json.dumps(out))
`;

function streams(...args: string[]): unknown {
  const r = spawnSync('python3', ['-c', STREAMS, ...args], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`python3 exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const BIG = Array.from({ length: 3000 }, (_, i) => `entry-${String(i).padStart(4, '0')}`);
const bigDir = (_l0: string, l1: string) => {
  mkdirSync(join(l1, 'big'));
  for (const n of BIG) writeFileSync(join(l1, 'big', n), '');
};

describe.each(MODES)('directory streams: $mode', ({ options, kernelOpens }) => {
  it('answers the first OPENDIR as the mode says, and a warm find then makes no OPENDIR or RELEASEDIR only without handles', async () => {
    const v = await mount(options, (l0, l1) => {
      for (let i = 0; i < 30; i++) mkdirSync(join(i % 2 ? l0 : l1, `d${i}`, 'inner'), { recursive: true });
    });
    const find = () => {
      const r = spawnSync('find', [v.mnt, '-printf', 'x'], { encoding: 'utf8' });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('x'.repeat(61));
    };
    find();
    find(); // what the first READDIRs left to ask (a directory's atime is asked again after one)
    const warm = await statsDuring(v.m, find);
    const stats = await daemonStats(v.m);
    expect(stats.dirs).toBe(0); // no stream left open
    if (kernelOpens) {
      expect(stats.opendirs).toBe(1); // the one answered ENOSYS
      expect(stats.releasedirs).toBe(0);
      expect([warm.opendirs, warm.releasedirs, warm.readdirs]).toEqual([0, 0, 0]);
      expect(stats.listings).toBe(0); // every pass read to its end: no snapshot kept
    } else {
      expect(warm.opendirs).toBe(61);
      expect(warm.releasedirs).toBe(61);
    }
  });

  it('shows a change through the view in the next listing at once, and a lower-layer change once reported', async () => {
    const v = await mount(options, (_l0, l1) => {
      mkdirSync(join(l1, 'd'));
      writeFileSync(join(l1, 'd/lower'), 'l');
    });
    expect(readdirSync(v.p('d'))).toEqual(['lower']);
    expect(readdirSync(v.p('d'))).toEqual(['lower']); // kept by the kernel where it opens directories
    writeFileSync(v.p('d/new'), 'n');
    expect(readdirSync(v.p('d')).sort()).toEqual(['lower', 'new']);
    rmSync(v.p('d/lower'));
    expect(readdirSync(v.p('d'))).toEqual(['new']);
    writeFileSync(join(v.lowers[1]!, 'd/behind'), 'b');
    writeFileSync(join(v.lowers[0]!, 'd-top'), 't');
    await v.fenced();
    expect(readdirSync(v.p('d')).sort()).toEqual(['behind', 'new']);
    expect(readdirSync(v.p()).sort()).toEqual(['d', 'd-top']);
  });

  it('lists a directory removed while open as empty through its descriptor, and fstat reads nlink 0 and its st_ino', async () => {
    const v = await mount(options, (_l0, l1) => {
      mkdirSync(join(l1, 'low'));
      writeFileSync(join(l1, 'low/f'), 'f');
    });
    mkdirSync(v.p('new'));
    for (const rel of ['new', 'low']) {
      readdirSync(v.p(rel)); // listed: kept by the kernel where it opens directories
      const ino = statSync(v.p(rel)).ino;
      const fd = openSync(v.p(rel), constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        if (rel === 'low') rmSync(v.p('low/f'));
        rmdirSync(v.p(rel));
        const st = fstatSync(fd);
        expect([st.isDirectory(), st.nlink, st.ino]).toEqual([true, 0, ino]);
        expect(readdirSync(`/proc/self/fd/${fd}`)).toEqual([]);
        // Reopened (another process's descriptor): the kernel lists no removed directory (IS_DEADDIR).
        expect(streams('read', `/proc/${process.pid}/fd/${fd}`)).toEqual([]);
      } finally {
        closeSync(fd);
      }
      expect(exists(v.p(rel))).toBe(false);
    }
  });

  it('gives every name of 3,000 exactly once, and telldir/seekdir positions that hold, across the kernel dropping its copy', async () => {
    const v = await mount(options, bigDir);
    const read = streams('read', v.p('big')) as [string, number][];
    const names = read.map(([n]) => n);
    expect(names.length).toBe(BIG.length + 2);
    expect([...names].sort()).toEqual(['.', '..', ...BIG]);
    const picks = [...read.keys()].filter((i) => i % 97 === 5 || i === read.length - 1).reverse();
    const seek = () => streams('seek', v.p('big'), ...picks.map((i) => String(read[i]![1]))) as string[];
    expect(seek()).toEqual(picks.map((i) => names[i]));
    // A lower-layer chmod of the directory drops what the kernel keeps of it (its listing's pages)
    // and changes no name: the same positions now reach the daemon, with no stream of theirs.
    chmodSync(join(v.lowers[1]!, 'big'), 0o750);
    await v.fenced();
    expect(seek()).toEqual(picks.map((i) => names[i]));
    expect(streams('read', v.p('big'))).toEqual(read);
  });

  it('reads every name once in a pass that outlives creates through the view and another process listing the directory', async () => {
    const v = await mount(options, bigDir);
    const names = streams('interleave', v.p('big'), 'added-') as string[];
    const old = names.filter((n) => !n.startsWith('added-'));
    expect(old.sort()).toEqual(['.', '..', ...BIG]);
    expect(new Set(names).size).toBe(names.length);
    expect(readdirSync(v.p('big')).length).toBe(BIG.length + 50);
  });
});

describe('where the kernel opens directories itself and notification degrades', () => {
  it.each([['timeout=0'], ['timeout=2']])('bounds how long a listing stays cached again (%s)', async (timeout) => {
    // A watch budget just big enough for the stack (its 7 directories, the fence's included) and
    // one more: directories made later go unwatched, which degrades notification (layer-watch.ts),
    // as a full inotify queue or fanotify trouble would.
    process.env.WORLDFS_FANOTIFY = 'off';
    process.env.WORLDFS_WATCH_BUDGET = '8';
    let upper = '';
    const v = await mount(['transport=kernel', 'notify=inotify', timeout!, 'notify_timeout=3600'], (_l0, l1) => {
      mkdirSync(join(l1, 'd'));
      writeFileSync(join(l1, 'd/f'), 'f');
      upper = join(l1, '..', 'upper');
      mkdirSync(join(upper, 'n11/sub'), { recursive: true });
    });
    expect(readdirSync(v.p('d'))).toEqual(['f']);
    expect(readdirSync(v.p('d'))).toEqual(['f']);
    expect((await daemonStats(v.m)).opendirs).toBe(1); // the kernel opens directories itself from now on
    for (let i = 0; i < 12; i++) mkdirSync(join(v.lowers[1]!, `n${i}`));
    expect(await soon(() => /watch budget/.test(v.m.stderr()))).toBe(true);
    // l1's n11 is past the budget, so nothing reports what is made in it: n11/sub, merged from the
    // upper layer's and its own, is invalidated by nothing but the sweep (its attributes, mtime
    // included, are the upper copy's, which a change to l1's copy leaves alone). The notifier's
    // one resend of the mkdirs above (RESEND_MS after them) invalidates what is known below n11:
    // it must have passed first. (Waiting too little could only let the test pass wrongly.)
    await new Promise((r) => setTimeout(r, 1000));
    mkdirSync(join(v.lowers[1]!, 'n11/sub'));
    expect(readdirSync(v.p('n11/sub'))).toEqual([]);
    expect(readdirSync(v.p('n11/sub'))).toEqual([]);
    writeFileSync(join(v.lowers[1]!, 'n11/sub/late'), 'l');
    // Its listing, kept by the kernel with no OPENDIR to drop it, shows the new name within
    // timeout= (polled, never timed).
    expect(await soon(() => readdirSync(v.p('n11/sub')).includes('late'), 30_000)).toBe(true);
    expect((await daemonStats(v.m)).listingsSwept).toBeGreaterThan(0);
    // A directory listed while notified (d) too; and the kernel still opens directories itself.
    writeFileSync(join(v.lowers[1]!, 'd/g'), 'g');
    expect(await soon(() => readdirSync(v.p('d')).includes('g'), 30_000)).toBe(true);
    expect((await daemonStats(v.m)).opendirs).toBe(1);
    expect(v.m.stderr().match(/watch budget/g)).toHaveLength(1); // degraded once: nothing else invalidated everything
  });
});
