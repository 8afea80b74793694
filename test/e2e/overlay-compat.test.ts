// Layer compatibility with kernel overlayfs (whiteout=overlay): layers written through worldfs mount
// unchanged with `mount -t overlay ... redirect_dir=on`, and layers written by the kernel show the
// same tree through worldfs. A plain directory given the same changes is the oracle for both.
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountWorldfs, stackDirs, tempDir, unmountAll } from '../helpers/worldfs.js';
import { mountOverlay, unmountOverlays } from '../helpers/overlayfs.js';
import { describeTree } from '../helpers/tree.js';

/** Lowers: l0 (top) and l1 (bottom), with names the changes below touch in every way. */
function writeLowers(l0: string, l1: string) {
  const file = (root: string, rel: string, text = rel) => {
    mkdirSync(join(root, rel, '..'), { recursive: true });
    writeFileSync(join(root, rel), text);
  };
  for (const f of ['keep.txt', 'gone.txt', 'mod.txt', 'chmod.txt', 'ren-src.txt', 'wasfile',
    'dir/a', 'dir/b', 'dir/sub/c', 'olddir/x', 'olddir/y/z', 'partial/p1', 'partial/p2',
    'merged/from1', 'wasdir/q', 'far/f1', 'far/deep/f2', 'chain/c1', 'back/b1', 'nest/inner/i1', 'nest/n1',
    'reborn/r1', 'hl.txt', 'over-me.txt', 'srcdir/s1']) file(l1, f);
  mkdirSync(join(l1, 'emptydst'));
  file(l1, 'shadow.txt', 'shadow from l1');
  symlinkSync('keep.txt', join(l1, 'link'));
  symlinkSync('nowhere', join(l1, 'deadlink'));
  file(l0, 'shadow.txt', 'shadow from l0');
  file(l0, 'merged/from0');
  file(l0, 'partial/p3');
  file(l0, 'olddir/from0');
  chmodSync(join(l1, 'chmod.txt'), 0o644);
}

/** The changes, made through whatever `root` is: a worldfs view, a kernel overlay, or a plain dir. */
function applyChanges(root: string) {
  const p = (rel: string) => join(root, rel);
  unlinkSync(p('gone.txt'));                                   // whiteout
  unlinkSync(p('shadow.txt'));                                 // whiteout over two lowers
  unlinkSync(p('deadlink'));
  unlinkSync(p('partial/p1'));                                 // whiteouts in a merged dir
  unlinkSync(p('partial/p3'));
  rmSync(p('dir'), { recursive: true });                       // delete and recreate: opaque
  mkdirSync(p('dir'));
  writeFileSync(p('dir/new'), 'new in recreated dir');
  renameSync(p('olddir'), p('newdir'));                        // rename of a merged lower dir: redirect
  mkdirSync(p('newtree/deep'), { recursive: true });
  renameSync(p('far'), p('newtree/far-moved'));                // moved to another parent: absolute redirect
  writeFileSync(p('newtree/far-moved/added'), 'added after the move');
  renameSync(p('merged/from1'), p('merged/renamed-from1'));
  renameSync(p('ren-src.txt'), p('ren-dst.txt'));              // rename of a lower file
  writeFileSync(p('mod.txt'), 'modified');                     // copy-up
  chmodSync(p('chmod.txt'), 0o600);                            // metadata-only change
  unlinkSync(p('wasfile'));                                    // a directory where a file was
  mkdirSync(p('wasfile'));
  writeFileSync(p('wasfile/inner'), 'inner');
  rmSync(p('wasdir'), { recursive: true });                    // a file where a directory was
  writeFileSync(p('wasdir'), 'now a file');
  writeFileSync(p('new.txt'), 'new');
  writeFileSync(p('newtree/deep/file.txt'), 'deep');
  symlinkSync('new.txt', p('newlink'));
  renameSync(p('chain'), p('chain2'));                         // a redirected dir renamed again
  renameSync(p('chain2'), p('chain3'));
  renameSync(p('back'), p('back-tmp'));                        // renamed away and back
  renameSync(p('back-tmp'), p('back'));
  renameSync(p('nest/inner'), p('inner-top'));                 // a lower subdir moved to the top
  renameSync(p('reborn'), p('reborn-moved'));                  // a new dir under the old name: opaque
  mkdirSync(p('reborn'));
  writeFileSync(p('reborn/fresh'), 'fresh');
  linkSync(p('hl.txt'), p('hl2.txt'));                         // a hard link to a lower file
  writeFileSync(p('replacement.txt'), 'replacement');
  renameSync(p('replacement.txt'), p('over-me.txt'));          // rename over a lower file
  renameSync(p('srcdir'), p('emptydst'));                      // a lower dir over an empty lower dir
}

/** The expected view: lowers merged by copying (l1, then l0 over it), then the same changes. */
function oracle(base: string, lowers: readonly string[]) {
  const plain = join(base, 'plain');
  mkdirSync(plain);
  for (const l of [...lowers].reverse()) {
    const r = spawnSync('cp', ['-a', `${l}/.`, plain], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
  }
  applyChanges(plain);
  return describeTree(plain);
}

/** trusted.overlay.* attributes visible through a view (they must stay internal). */
function leakedOverlayXattrs(mnt: string): string {
  const r = spawnSync('getfattr', ['-R', '-h', '-d', '-m', '-', '--absolute-names', mnt], { encoding: 'utf8' });
  return r.stdout.split('\n').filter((l) => l.startsWith('trusted.overlay.')).join('\n');
}

describe('layers shared with kernel overlayfs (redirect_dir=on)', () => {
  let tmp: ReturnType<typeof tempDir>;
  /** Kernel overlays mounted here with options the shared helper does not offer (metacopy=on). */
  const kernelMounts = new Set<string>();
  beforeEach(() => {
    tmp = tempDir('worldos-ovl-');
  });
  afterEach(async () => {
    for (const k of kernelMounts) {
      try { execFileSync('umount', ['-l', k], { stdio: 'ignore' }); } catch { /* gone already */ }
    }
    kernelMounts.clear();
    unmountOverlays();
    await unmountAll();
    tmp.cleanup();
  });

  it('the fixture and changes give the intended tree in a plain directory (the oracle is sound)', () => {
    const d = stackDirs(tmp.path, 2);
    writeLowers(d.lowers[0]!, d.lowers[1]!);
    const want = oracle(tmp.path, d.lowers);
    expect(Object.keys(want)).toEqual(expect.arrayContaining(['newdir/from0', 'newdir/y/z', 'newtree/far-moved/deep/f2', 'dir/new', 'wasfile/inner']));
    expect(want).not.toHaveProperty('gone.txt');
    expect(want).not.toHaveProperty('dir/a');
    expect(want['shadow.txt']).toBeUndefined();
    expect(want['wasdir']!.type).toBe('file');
    expect(Object.keys(want).filter((k) => /^(chain|back|inner-top|nest|reborn|emptydst)/.test(k)).sort()).toEqual([
      'back', 'back/b1', 'chain3', 'chain3/c1', 'emptydst', 'emptydst/s1', 'inner-top', 'inner-top/i1', 'nest', 'nest/n1',
      'reborn', 'reborn-moved', 'reborn-moved/r1', 'reborn/fresh',
    ]);
  });

  it('layers written by worldfs mount with kernel overlayfs and show the same tree', async () => {
    const d = stackDirs(tmp.path, 2);
    writeLowers(d.lowers[0]!, d.lowers[1]!);
    const want = oracle(tmp.path, d.lowers);
    const m = await mountWorldfs({ ...d, whiteout: 'overlay' });
    applyChanges(m.mnt);
    const shownByWorldfs = describeTree(m.mnt);
    expect(shownByWorldfs).toEqual(want);
    await m.unmount();

    // worldfs's chmod/chown/utimens copy up metadata only (metacopy=on, its default), which the
    // kernel reads with metacopy=on (docs/whiteouts.md); without it the kernel refuses those files.
    const kmnt = mountOverlay({ lowers: d.lowers, upper: d.upper, work: d.work, mnt: join(tmp.path, 'kernel'), options: ['redirect_dir=on', 'index=off', 'metacopy=on'] });
    expect(describeTree(kmnt)).toEqual(shownByWorldfs);
  });

  it('layers written by kernel overlayfs show the same tree through worldfs', async () => {
    const d = stackDirs(tmp.path, 2);
    writeLowers(d.lowers[0]!, d.lowers[1]!);
    const want = oracle(tmp.path, d.lowers);
    const kmnt = mountOverlay({ lowers: d.lowers, upper: d.upper, work: d.work, mnt: join(tmp.path, 'kernel') });
    applyChanges(kmnt);
    const shownByKernel = describeTree(kmnt);
    expect(shownByKernel).toEqual(want);
    unmountOverlays();

    const m = await mountWorldfs({ ...d, whiteout: 'overlay' });
    expect(describeTree(m.mnt)).toEqual(shownByKernel);
    expect(leakedOverlayXattrs(m.mnt)).toBe('');
  });

  it('metacopy layers written by the kernel (metacopy=on) show the lower data through worldfs', async () => {
    const d = stackDirs(tmp.path, 1);
    mkdirSync(join(d.lowers[0]!, 'dir'));
    writeFileSync(join(d.lowers[0]!, 'meta.txt'), 'data stays in the lower layer');
    writeFileSync(join(d.lowers[0]!, 'dir/moved.txt'), 'moved file data');
    writeFileSync(join(d.lowers[0]!, 'owned.txt'), 'owned');
    const kmnt = join(tmp.path, 'kernel');
    mkdirSync(kmnt);
    // Metadata-only copy-ups: the upper file has the new metadata, the data stays below.
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o',
      `lowerdir=${d.lowers[0]},upperdir=${d.upper},workdir=${d.work},redirect_dir=on,metacopy=on`, kmnt]);
    kernelMounts.add(kmnt);
    chmodSync(join(kmnt, 'meta.txt'), 0o600);
    renameSync(join(kmnt, 'dir/moved.txt'), join(kmnt, 'moved.txt')); // metacopy + redirect to the data
    chownSync(join(kmnt, 'owned.txt'), 1234, 1234);
    const shownByKernel = describeTree(kmnt);
    expect(shownByKernel['meta.txt']).toMatchObject({ mode: '600', size: 29 });
    execFileSync('umount', [kmnt]);
    kernelMounts.delete(kmnt);
    const upperXattrs = spawnSync('getfattr', ['-R', '-d', '-m', 'trusted.overlay.metacopy', '--absolute-names', d.upper], { encoding: 'utf8' }).stdout;
    expect(upperXattrs).toContain('trusted.overlay.metacopy'); // the kernel really made metacopy files

    const m = await mountWorldfs({ ...d, whiteout: 'overlay' });
    expect(describeTree(m.mnt)).toEqual(shownByKernel);
    expect(readFileSync(join(m.mnt, 'meta.txt'), 'utf8')).toBe('data stays in the lower layer');
  });

  it('worldfs keeps its overlay bookkeeping internal: no trusted.overlay.* attribute is visible in the view', async () => {
    const d = stackDirs(tmp.path, 2);
    writeLowers(d.lowers[0]!, d.lowers[1]!);
    const m = await mountWorldfs({ ...d, whiteout: 'overlay' });
    applyChanges(m.mnt);
    expect(leakedOverlayXattrs(m.mnt)).toBe('');
    // ...while the upper layer does carry them, where the kernel looks for them.
    const r = spawnSync('getfattr', ['-R', '-h', '-d', '-m', 'trusted.overlay.', '--absolute-names', d.upper], { encoding: 'utf8' });
    expect(r.stdout).toContain('trusted.overlay.opaque="y"');
    expect(r.stdout).toContain('trusted.overlay.redirect=');
  });
});
