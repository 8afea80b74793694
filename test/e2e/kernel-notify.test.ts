// notify=inotify and notify=fanotify on the kernel transport: lower layers changed on the host while
// the view caches for an hour (timeout= and notify_timeout= both 3600 s, so no time bound can explain
// an outcome) show through the view, and what did not change stays cached (no new FUSE request).
// The watchers are asynchronous: changes are polled for, with a generous bound (or fenced); nothing
// here measures speed. fanotify (root) marks the whole filesystem the temp dirs are on.
import { linkSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exists, soon } from '../helpers/procs.js';
import { daemonStats, mountWorldfs, requestsDuring, stackDirs, tempDirsEachTest, unmountAll } from '../helpers/worldfs.js';

const longWith = (notify: string) => ['transport=kernel', `notify=${notify}`, 'timeout=3600', 'notify_timeout=3600'];
const asRoot = process.getuid?.() === 0;
const scratch = tempDirsEachTest('worldos-notify-');

async function mount(whiteout: string, prepare: (lowers: string[]) => void, options: string[]) {
  const dir = scratch();
  const d = stackDirs(dir, 2);
  prepare(d.lowers);
  const m = await mountWorldfs({ ...d, whiteout, options });
  // notify=fanotify really watches with fanotify (no fallback to inotify, which would pass too).
  if (options.includes('notify=fanotify')) expect(m.stderr()).not.toMatch(/fanotify is not available/);
  return { ...d, m, p: (rel = '') => join(d.mnt, rel) };
}

const variants = [['inotify', 'aufs'], ['inotify', 'overlay'], ...(asRoot ? [['fanotify', 'aufs'], ['fanotify', 'overlay']] : [])];
describe.each(variants)('notify=%s (whiteout=%s)', (notify, whiteout) => {
  const LONG = longWith(notify!);
  it('shows files added, rewritten and removed in lower layers, negative lookups included', async () => {
    const v = await mount(whiteout!, ([l0, l1]) => {
      mkdirSync(join(l1!, 'merged'));
      writeFileSync(join(l1!, 'merged/one'), '1');
      writeFileSync(join(l0!, 'top.txt'), 'top');
      writeFileSync(join(l1!, 'old.txt'), 'old');
    }, LONG);
    expect(exists(v.p('merged/added'))).toBe(false); // a negative entry, cached for an hour
    expect(readdirSync(v.p('merged'))).toEqual(['one']);
    expect(readFileSync(v.p('merged/one'), 'utf8')).toBe('1');
    expect(readFileSync(v.p('old.txt'), 'utf8')).toBe('old');
    writeFileSync(join(v.lowers[1]!, 'merged/added'), 'behind the back');
    writeFileSync(join(v.lowers[1]!, 'merged/one'), 'one, rewritten');
    rmSync(join(v.lowers[1]!, 'old.txt'));
    expect(await soon(() => readFileSync(v.p('merged/added'), 'utf8') === 'behind the back')).toBe(true);
    expect(await soon(() => statSync(v.p('merged/one')).size === 14)).toBe(true);
    expect(readFileSync(v.p('merged/one'), 'utf8')).toBe('one, rewritten');
    expect(await soon(() => !exists(v.p('old.txt')))).toBe(true);
    expect(readdirSync(v.p('merged')).sort()).toEqual(['added', 'one']);
  });

  it('follows new lower directories: files created inside them later show too', async () => {
    const v = await mount(whiteout!, () => {}, LONG);
    mkdirSync(join(v.lowers[1]!, 'a/b'), { recursive: true });
    expect(await soon(() => exists(v.p('a/b')))).toBe(true);
    expect(readdirSync(v.p('a/b'))).toEqual([]);
    writeFileSync(join(v.lowers[1]!, 'a/b/late'), 'late');
    expect(await soon(() => readdirSync(v.p('a/b')).includes('late'))).toBe(true);
    expect(readFileSync(v.p('a/b/late'), 'utf8')).toBe('late');
    // A directory moved within a layer: its files show under the new name, not the old one.
    renameSync(join(v.lowers[1]!, 'a'), join(v.lowers[1]!, 'z'));
    expect(await soon(() => !exists(v.p('a')) && exists(v.p('z/b/late')))).toBe(true);
    writeFileSync(join(v.lowers[1]!, 'z/b/later'), 'later');
    expect(await soon(() => exists(v.p('z/b/later')))).toBe(true);
  });

  it('applies whiteouts added to a higher lower layer', async () => {
    const v = await mount(whiteout!, ([, l1]) => {
      writeFileSync(join(l1!, 'doomed'), 'x');
    }, LONG);
    expect(readFileSync(v.p('doomed'), 'utf8')).toBe('x');
    // Deleting it through another view whose upper is l0 writes the whiteout there.
    mkdirSync(join(v.mnt, '..', 'work2'));
    const other = await mountWorldfs({
      lowers: [v.lowers[1]!], upper: v.lowers[0]!, mnt: join(v.mnt, '..', 'mnt2'), whiteout,
      work: join(v.mnt, '..', 'work2'), options: ['transport=kernel'],
    });
    rmSync(join(other.mnt, 'doomed'));
    expect(await soon(() => !exists(v.p('doomed')))).toBe(true);
  });

  it('maps a change below a directory renamed through the view to the new name (redirect)', async () => {
    const v = await mount(whiteout!, ([, l1]) => {
      mkdirSync(join(l1!, 'before'));
      writeFileSync(join(l1!, 'before/f'), 'v1');
    }, LONG);
    renameSync(v.p('before'), v.p('after')); // a redirect in the upper layer
    expect(readFileSync(v.p('after/f'), 'utf8')).toBe('v1');
    writeFileSync(join(v.lowers[1]!, 'before/f'), 'version 2');
    writeFileSync(join(v.lowers[1]!, 'before/g'), 'g');
    expect(await soon(() => readFileSync(v.p('after/f'), 'utf8') === 'version 2')).toBe(true);
    expect(await soon(() => readdirSync(v.p('after')).includes('g'))).toBe(true);
  });

  it('removes a fence file only once every earlier lower-layer change shows, so a reader after it need not poll', async () => {
    const fence = join(scratch(), 'fence');
    const v = await mount(whiteout!, ([, l1]) => {
      writeFileSync(join(l1!, 'f'), 'v1');
    }, [...LONG, `fence=${fence}`]);
    for (let round = 2; round < 6; round++) {
      expect(readFileSync(v.p('f'), 'utf8')).toBe(`v${round - 1}`); // cached in the kernel
      writeFileSync(join(v.lowers[1]!, 'f'), `v${round}`);
      writeFileSync(join(v.lowers[1]!, `new${round}`), 'n');
      const f = join(fence, `round${round}`);
      writeFileSync(f, '');
      expect(await soon(() => !exists(f))).toBe(true);
      expect(readFileSync(v.p('f'), 'utf8')).toBe(`v${round}`);
      expect(exists(v.p(`new${round}`))).toBe(true);
    }
  });

  it('shows what was made in a new lower directory before its watch existed, negative entries included', async () => {
    const fence = join(scratch(), 'fence');
    const v = await mount(whiteout!, ([, l1]) => {
      mkdirSync(join(l1!, 'd'));
      writeFileSync(join(l1!, 'd/old'), 'old');
    }, [...LONG, `fence=${fence}`]);
    expect(readdirSync(v.p('d'))).toEqual(['old']);
    expect(exists(v.p('d/x'))).toBe(false); // a negative entry below a directory the kernel knows
    // l0 gets its own d, and files in it, before the daemon can have watched that d: it is stopped
    // meanwhile (nothing here touches the mount while it is).
    v.m.proc.kill('SIGSTOP');
    try {
      mkdirSync(join(v.lowers[0]!, 'd'));
      writeFileSync(join(v.lowers[0]!, 'd/x'), 'x');
      mkdirSync(join(v.lowers[0]!, 'd/deeper'));
      writeFileSync(join(v.lowers[0]!, 'd/deeper/y'), 'y');
      writeFileSync(join(fence, 'f'), '');
    } finally {
      v.m.proc.kill('SIGCONT');
    }
    expect(await soon(() => !exists(join(fence, 'f')))).toBe(true);
    expect(readFileSync(v.p('d/x'), 'utf8')).toBe('x');
    expect(readFileSync(v.p('d/deeper/y'), 'utf8')).toBe('y');
    expect(readdirSync(v.p('d')).sort()).toEqual(['deeper', 'old', 'x']);
  });

  it('shows a lower file written in place through one of its names under its other names too', async () => {
    const fence = join(scratch(), 'fence');
    const v = await mount(whiteout!, ([, l1]) => {
      mkdirSync(join(l1!, 'a'));
      writeFileSync(join(l1!, 'a/h1'), 'one');
      linkSync(join(l1!, 'a/h1'), join(l1!, 'h2'));
    }, [...LONG, `fence=${fence}`]);
    expect([statSync(v.p('a/h1')).size, statSync(v.p('h2')).size]).toEqual([3, 3]);
    writeFileSync(join(v.lowers[1]!, 'a/h1'), 'longer now');
    writeFileSync(join(fence, 'f'), '');
    expect(await soon(() => !exists(join(fence, 'f')))).toBe(true);
    expect(statSync(v.p('h2')).size).toBe(10);
    expect(readFileSync(v.p('h2'), 'utf8')).toBe('longer now');
  });

  it('keeps what did not change cached: repeated stats cost no FUSE request, before and after a change elsewhere', async () => {
    const v = await mount(whiteout!, ([, l1]) => {
      mkdirSync(join(l1!, 'keep'));
      mkdirSync(join(l1!, 'busy'));
      for (let i = 0; i < 20; i++) writeFileSync(join(l1!, `keep/f${i}`), String(i));
      writeFileSync(join(l1!, 'busy/x'), 'x');
    }, LONG);
    const walk = () => { for (let i = 0; i < 20; i++) statSync(v.p(`keep/f${i}`)); };
    walk();
    const first = await daemonStats(v.m);
    walk();
    walk();
    expect((await daemonStats(v.m)).requests).toBe(first.requests + 0); // SIGUSR2 is not a request
    statSync(v.p('busy/x'));
    const beforeChange = await daemonStats(v.m);
    writeFileSync(join(v.lowers[1]!, 'busy/x'), 'changed');
    expect(await soon(() => statSync(v.p('busy/x')).size === 7)).toBe(true);
    const afterChange = await daemonStats(v.m);
    expect(afterChange.viewChanges).toBeGreaterThan(0);
    // Rewritten in place: its name stood, so the kernel asked for attributes again, not the name.
    expect(afterChange.lookups).toBe(beforeChange.lookups);
    walk();
    expect((await daemonStats(v.m)).requests).toBe(afterChange.requests);
  });

  it('shows a name added below an empty directory whose (empty) listing the kernel keeps', async () => {
    // Merged: its attributes (mtime included) are the higher copy's, which the change leaves alone,
    // so only the invalidation of the cached listing can show the new name.
    const v = await mount(whiteout!, ([l0, l1]) => { mkdirSync(join(l0!, 'empty')); mkdirSync(join(l1!, 'empty')); }, LONG);
    expect(readdirSync(v.p('empty'))).toEqual([]);
    expect(readdirSync(v.p('empty'))).toEqual([]); // kept by the kernel (FOPEN_CACHE_DIR)
    writeFileSync(join(v.lowers[1]!, 'empty/new'), 'n');
    expect(await soon(() => readdirSync(v.p('empty')).includes('new'))).toBe(true);
  });

  it('keeps file data and listings across opens (no READ, no READDIR), and still shows a same-size rewrite and a new name', async () => {
    const v = await mount(whiteout!, ([l0, l1]) => {
      mkdirSync(join(l1!, 'd'));
      writeFileSync(join(l1!, 'd/data'), 'AAAAAAAA');
      writeFileSync(join(l0!, 'top'), 'top data');
    }, LONG);
    expect(readFileSync(v.p('d/data'), 'utf8')).toBe('AAAAAAAA');
    expect(readFileSync(v.p('top'), 'utf8')).toBe('top data');
    expect(readdirSync(v.p('d'))).toEqual(['data']);
    const again = () => {
      expect(readFileSync(v.p('d/data'), 'utf8')).toBe('AAAAAAAA');
      expect(readFileSync(v.p('top'), 'utf8')).toBe('top data');
      expect(readdirSync(v.p('d'))).toEqual(['data']);
    };
    const before = await daemonStats(v.m);
    again();
    const after = await daemonStats(v.m);
    // OPEN, FLUSH, RELEASE (and OPENDIR, RELEASEDIR) still come; READ and READDIR do not.
    expect(after.requests).toBeGreaterThan(before.requests);
    expect(after.reads).toBe(before.reads);
    expect(after.readdirs).toBe(before.readdirs);
    writeFileSync(join(v.lowers[1]!, 'd/data'), 'BBBBBBBB'); // same size, in place
    writeFileSync(join(v.lowers[1]!, 'd/new'), 'n');
    expect(await soon(() => readFileSync(v.p('d/data'), 'utf8') === 'BBBBBBBB')).toBe(true);
    expect(await soon(() => readdirSync(v.p('d')).sort().join() === 'data,new')).toBe(true);
  });
});

/** Run `fn` with $NAME set (the daemons it starts inherit it). */
async function withEnv<T>(name: string, value: string, fn: () => Promise<T>): Promise<T> {
  process.env[name] = value;
  try {
    return await fn();
  } finally {
    delete process.env[name];
  }
}

/** A stack whose lowest layer is past inotify's 1,024 directories for it. */
const tooBig = ([l0, l1]: string[]) => {
  mkdirSync(join(l0!, 'w'));
  writeFileSync(join(l0!, 'w/f'), 'world');
  mkdirSync(join(l1!, 'b'));
  writeFileSync(join(l1!, 'b/g'), 'base');
  for (let i = 0; i < 1030; i++) mkdirSync(join(l1!, `d${i}`));
};

describe('notify=inotify without a transport that can invalidate, or a layer it cannot watch', () => {
  it('caches what is drawn from the watched layers alone when the lowest is too big to watch (no fanotify), and nothing that depends on it', async () => {
    const v = await withEnv('WORLDFS_FANOTIFY', 'off', () => mount('aufs', tooBig, ['transport=kernel', 'notify=inotify', 'timeout=0', 'notify_timeout=3600']));
    statSync(v.p('w/f'));
    statSync(v.p('b/g'));
    expect(await requestsDuring(v.m, () => { statSync(v.p('w/f')); statSync(v.p('w/f')); })).toBe(0);
    expect(await requestsDuring(v.m, () => statSync(v.p('b/g')))).toBeGreaterThan(0);
    writeFileSync(join(v.lowers[1]!, 'b/g'), 'base, changed'); // unwatched, uncached: shows at once
    expect(readFileSync(v.p('b/g'), 'utf8')).toBe('base, changed');
    writeFileSync(join(v.lowers[0]!, 'w/f'), 'world, changed'); // watched: shows once reported
    expect(await soon(() => readFileSync(v.p('w/f'), 'utf8') === 'world, changed')).toBe(true);
    expect(v.m.stderr()).toMatch(/not watched/);
  });

  it.runIf(asRoot)('hands a lowest layer too big for inotify to fanotify (root): what is drawn from it is cached too, and its changes show', async () => {
    const fence = join(scratch(), 'fence');
    const v = await mount('aufs', tooBig, ['transport=kernel', 'notify=inotify', 'timeout=0', 'notify_timeout=3600', `fence=${fence}`]);
    expect(readFileSync(v.p('b/g'), 'utf8')).toBe('base');
    expect(readFileSync(v.p('w/f'), 'utf8')).toBe('world');
    const probe = () => { statSync(v.p('b/g')); statSync(v.p('w/f')); expect(exists(v.p('b/new'))).toBe(false); };
    probe();
    expect(await requestsDuring(v.m, probe)).toBe(0);
    writeFileSync(join(v.lowers[1]!, 'b/g'), 'base, changed');
    writeFileSync(join(v.lowers[1]!, 'b/new'), 'new');
    writeFileSync(join(v.lowers[0]!, 'w/f'), 'world, changed');
    // The fence passes both watches (inotify for the world's layer, fanotify for the base).
    writeFileSync(join(fence, 'f'), '');
    expect(await soon(() => !exists(join(fence, 'f')))).toBe(true);
    expect(readFileSync(v.p('b/g'), 'utf8')).toBe('base, changed');
    expect(readFileSync(v.p('b/new'), 'utf8')).toBe('new');
    expect(readFileSync(v.p('w/f'), 'utf8')).toBe('world, changed');
    expect(v.m.stderr()).not.toMatch(/not watched/);
  });

  it.runIf(asRoot)('watches with inotify a filesystem below a fanotify layer that fanotify cannot mark (overlayfs)', async () => {
    const t = scratch();
    for (const d of ['lo', 'up', 'wk']) mkdirSync(join(t, d));
    writeFileSync(join(t, 'lo/f'), 'v1');
    let ov = '';
    try {
      const v = await mount('aufs', ([, l1]) => {
        ov = join(l1!, 'ov');
        mkdirSync(ov);
        execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${join(t, 'lo')},upperdir=${join(t, 'up')},workdir=${join(t, 'wk')}`, ov]);
      }, [...longWith('fanotify'), 'timeout=0']);
      expect(v.m.stderr()).toMatch(/cannot mark .*inotify watches it/);
      expect(v.m.stderr()).not.toMatch(/not watched/);
      expect(readFileSync(v.p('ov/f'), 'utf8')).toBe('v1');
      statSync(v.p('ov/f'));
      expect(await requestsDuring(v.m, () => statSync(v.p('ov/f')))).toBe(0); // cached: the layer counts as watched
      writeFileSync(join(ov, 'f'), 'version 2'); // through the overlay mount: inotify sees it
      expect(await soon(() => statSync(v.p('ov/f')).size === 9)).toBe(true);
      expect(readFileSync(v.p('ov/f'), 'utf8')).toBe('version 2');
    } finally {
      await unmountAll(); // before the overlay below it
      if (ov !== '') execFileSync('umount', ['-l', ov]);
    }
  });

  it('falls back to timeout= when a lower layer has more directories than the watch budget (no fanotify)', async () => {
    // WORLDFS_WATCH_BUDGET is read by the watcher: 3 watches cannot cover 5 directories.
    process.env.WORLDFS_WATCH_BUDGET = '3';
    try {
      const v = await withEnv('WORLDFS_FANOTIFY', 'off', () => mount('aufs', ([, l1]) => {
        for (const d of ['a', 'b', 'c', 'd']) mkdirSync(join(l1!, d));
        writeFileSync(join(l1!, 'a/f'), '1');
      }, ['transport=kernel', 'notify=inotify', 'timeout=0']));
      expect(readFileSync(v.p('a/f'), 'utf8')).toBe('1');
      writeFileSync(join(v.lowers[1]!, 'a/f'), 'two');
      // timeout=0: nothing is cached, so the change shows at the next read.
      expect(readFileSync(v.p('a/f'), 'utf8')).toBe('two');
      expect(v.m.stderr()).toMatch(/not watched|watch budget/);
    } finally {
      delete process.env.WORLDFS_WATCH_BUDGET;
    }
  });
});
