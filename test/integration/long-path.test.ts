// Host paths past PATH_MAX (src/host/long-path.ts, src/host/host-fs.ts) on a real directory tree:
// every wrapped call works at any depth, leaves no descriptor open, and follows no symlink on the way.
import * as fs from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import * as hfs from '../../src/host/host-fs.js';
import { holdPath } from '../../src/host/long-path.js';
import { removeAll } from '../../src/host/remove-tree.js';
import { getXattr, setXattr } from '../../src/host/xattr.js';
import { tempDir } from '../helpers/worldfs.js';

const LEVEL = 'd'.repeat(200);
const openFds = () => fs.readdirSync('/proc/self/fd').length;

describe('host paths longer than PATH_MAX', () => {
  let tmp: ReturnType<typeof tempDir>;
  let deep: string;
  beforeEach(() => {
    tmp = tempDir('worldos-longpath-');
    deep = tmp.path;
    for (let i = 0; i < 30; i++) {
      deep += `/${i}${LEVEL}`;
      hfs.mkdirSync(deep); // each level's parent is already long from the 20th on
    }
  });
  afterEach(() => tmp.cleanup());

  it('node:fs itself refuses them (what the wrappers are for)', () => {
    expect(Buffer.byteLength(deep)).toBeGreaterThan(4096);
    expect(() => fs.lstatSync(deep)).toThrow(expect.objectContaining({ code: 'ENAMETOOLONG' }));
  });

  it('creates, reads, renames, links, lists, changes and removes objects down there', () => {
    const before = openFds();
    hfs.writeFileSync(`${deep}/f`, 'data');
    expect(hfs.lstatSync(`${deep}/f`).size).toBe(4);
    hfs.chmodSync(`${deep}/f`, 0o600);
    expect(hfs.lstatSync(`${deep}/f`).mode & 0o777).toBe(0o600);
    hfs.utimensNs(`${deep}/f`, 1_000_000_000n, 2_000_000_000n);
    expect(hfs.lstatSync(`${deep}/f`, { bigint: true }).mtimeNs).toBe(2_000_000_000n);
    setXattr(`${deep}/f`, 'user.k', 'v');
    expect(getXattr(`${deep}/f`, 'user.k')?.toString()).toBe('v');
    hfs.linkSync(`${deep}/f`, `${deep}/g`);
    expect(hfs.lstatSync(`${deep}/f`).nlink).toBe(2);
    hfs.renameSync(`${deep}/g`, `${tmp.path}/g`); // long to short
    hfs.renameSync(`${tmp.path}/g`, `${deep}/h`); // short to long
    hfs.symlinkSync('f', `${deep}/s`);
    expect(hfs.readlinkSync(`${deep}/s`)).toBe('f');
    hfs.mknodRaw(`${deep}/p`, fs.constants.S_IFIFO | 0o644, 0, 0);
    expect((hfs.readdirSync(deep) as string[]).sort()).toEqual(['f', 'h', 'p', 's']);
    const st = { mode: 0, rdev: 0 };
    expect(hfs.lstatNoSymlinks(`${deep}/p`, st)).toBe(0);
    expect(st.mode & fs.constants.S_IFMT).toBe(fs.constants.S_IFIFO);
    expect(hfs.lstatNoSymlinks(`${deep}/nope`, st)).toBe(2); // ENOENT, as a number
    for (const n of ['f', 'h', 's', 'p']) hfs.unlinkSync(`${deep}/${n}`);
    expect(hfs.readdirSync(deep)).toEqual([]);
    expect(openFds()).toBe(before);
  });

  it('answers ENOENT and ENOTDIR for a missing or non-directory component, as a short path would', () => {
    expect(() => hfs.lstatSync(`${deep}/nope/x`)).toThrow(expect.objectContaining({ code: 'ENOENT' }));
    expect(hfs.lstatSync(`${deep}/nope/x`, { throwIfNoEntry: false })).toBeUndefined(); // as node:fs's
    expect(fs.lstatSync(`${tmp.path}/nope/x`, { throwIfNoEntry: false })).toBeUndefined();
    hfs.writeFileSync(`${deep}/file`, '');
    expect(() => hfs.lstatSync(`${deep}/file/x`)).toThrow(expect.objectContaining({ code: 'ENOTDIR' }));
  });

  it('follows no symlink on the way: a directory swapped for one gives ELOOP, never the outside', () => {
    const outside = `${tmp.path}/outside`;
    fs.mkdirSync(outside);
    fs.writeFileSync(`${outside}/secret`, 'outside');
    // Swap level 2 for a symlink to `outside`, below which the rest of the path exists too.
    const parts = deep.slice(tmp.path.length + 1).split('/');
    const cut = `${tmp.path}/${parts[0]}/${parts[1]}`;
    fs.renameSync(cut, `${cut}.moved`);
    fs.symlinkSync(outside, cut);
    let mirror = outside;
    for (const p of parts.slice(2)) hfs.mkdirSync((mirror += `/${p}`));
    expect(() => hfs.lstatSync(`${deep}`)).toThrow(expect.objectContaining({ code: 'ELOOP' }));
    expect(() => hfs.writeFileSync(`${deep}/planted`, 'x')).toThrow(expect.objectContaining({ code: 'ELOOP' }));
    expect(hfs.lstatNoSymlinks(`${deep}/planted`, { mode: 0, rdev: 0 })).toBe(40); // ELOOP
    expect(fs.readdirSync(outside).sort()).toEqual([parts[2], 'secret'].sort());
    expect(hfs.readdirSync(mirror)).toEqual([]); // nothing planted at the end of the mirror
  });

  it('removeAll removes a tree deeper than PATH_MAX, files and symlinks at every depth, and no descriptor stays open', () => {
    const top = `${tmp.path}/t`;
    let p = top;
    hfs.mkdirSync(top);
    for (let i = 0; i < 30; i++) {
      p += `/${i}${LEVEL}`;
      hfs.mkdirSync(p);
      hfs.writeFileSync(`${p}/f`, 'x');
      hfs.symlinkSync('/etc/passwd', `${p}/s`); // never followed: a link is removed, not its target
    }
    const fds = openFds();
    removeAll(top);
    expect(fs.existsSync(top)).toBe(false);
    expect(fs.existsSync('/etc/passwd')).toBe(true);
    expect(openFds()).toBe(fds);
    removeAll(top); // absent: nothing to do, as rm -rf
  });

  it('holdPath keeps one descriptor until released, and none for a short path', () => {
    const before = openFds();
    const held = holdPath(`${deep}/x`);
    expect(held.path).toMatch(/^\/proc\/self\/fd\/\d+\/x$/);
    expect(openFds()).toBe(before + 1);
    held.release();
    held.release(); // once only
    expect(openFds()).toBe(before);
    const short = holdPath('/tmp/x');
    expect(short.path).toBe('/tmp/x');
    short.release();
    expect(openFds()).toBe(before);
  });
});
