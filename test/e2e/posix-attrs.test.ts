// Attributes through a worldfs view: chmod, chown (to -1, -1 too: only ctime moves), utimens (utimes and touch), access, statfs and
// user.* extended attributes. Each row runs on worldfs with aufs and overlay whiteouts and on a
// plain directory (the oracle).
import {
  accessSync, chmodSync, chownSync, closeSync, constants, existsSync, fchownSync, lchownSync, openSync, lstatSync, lutimesSync, mkdirSync, readFileSync, statfsSync,
  statSync, symlinkSync, utimesSync, writeFileSync,
} from 'node:fs';
import { expect } from 'vitest';
import { symlink, file, dir, type Tree } from './support/tree.js';
import { errno, runCases, sh, type Case, type View } from './support/views.js';

const T2001 = 978307200; // 2001-01-01T00:00:00Z
const T2002 = 1009843200; // 2002-01-01T00:00:00Z
const T2300 = 10413792000; // 2300-01-01T00:00:00Z: 1.04e19 ns, past 2^63

const L0: Tree = {
  'a.txt': file('a from l0', { mode: 0o644, atime: T2002, mtime: T2001 }),
  'exe': file('#!/bin/sh\n', { mode: 0o755 }),
  'tagged': file('tagged', { xattrs: { 'user.color': 'blue', 'user.size': 'large' } }),
  merged: { zero: '0' },
  ln: symlink('a.txt', { uid: 1234, gid: 5678 }),
};
const L1: Tree = {
  'a.txt': 'a from l1',
  merged: { one: '1' },
  lowdir: dir({ f: file('f', { mtime: T2001 }) }, { mode: 0o755, xattrs: { 'user.dir': 'yes' }, mtime: T2001 }),
};
const LAYERS = [L0, L1];

const times = (v: View, rel: string) => {
  const st = statSync(v.p(rel));
  return { atime: st.atimeMs, mtime: st.mtimeMs };
};

// pyenv's shim costs seconds per start; the system interpreter is enough.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

/** setxattr(2) with flags through Python (setfattr has no XATTR_CREATE/XATTR_REPLACE): 'OK' or the errno name. */
function setxattrFlags(path: string, name: string, value: string, flag: 'CREATE' | 'REPLACE'): string {
  const py = [
    'import errno, os, sys',
    'try:',
    `    os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode(), os.XATTR_${flag})`,
    '    print("OK")',
    'except OSError as e:',
    '    print(errno.errorcode[e.errno])',
  ].join('\n');
  return sh(PYTHON, ['-I', '-c', py, path, name, value]).stdout.trim();
}

/** getfattr -d of the user.* attributes as a name -> value record. */
function userXattrs(path: string): Record<string, string> {
  const r = sh('getfattr', ['--absolute-names', '-d', '-m', '^user\\.', path]);
  expect(r.status).toBe(0);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([^#=][^=]*)="(.*)"$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

const getx = (path: string, name: string) => sh('getfattr', ['--absolute-names', '--only-values', '-n', name, path]);

const cases: Case[] = [
  {
    title: 'chmod changes the mode of lower files and directories and nothing else',
    layers: LAYERS,
    run(v) {
      chmodSync(v.p('a.txt'), 0o600);
      expect(statSync(v.p('a.txt')).mode & 0o7777).toBe(0o600);
      expect(readFileSync(v.p('a.txt'), 'utf8')).toBe('a from l0');
      chmodSync(v.p('lowdir'), 0o700);
      expect(statSync(v.p('lowdir')).mode & 0o7777).toBe(0o700);
      chmodSync(v.p('merged'), 0o1777);
      expect(statSync(v.p('merged')).mode & 0o7777).toBe(0o1777);
      chmodSync(v.p('exe'), 0o4750);
      expect(statSync(v.p('exe')).mode & 0o7777).toBe(0o4750);
      expect(readFileSync(v.p('lowdir/f'), 'utf8')).toBe('f');
      expect(errno(() => chmodSync(v.p('nope'), 0o600))).toBe('ENOENT');
    },
  },
  {
    title: 'chown changes owner and group, -1 keeps one of them, lchown changes a symlink and not its target',
    layers: LAYERS,
    run(v) {
      chownSync(v.p('a.txt'), 1234, 5678);
      let st = statSync(v.p('a.txt'));
      expect([st.uid, st.gid]).toEqual([1234, 5678]);
      chownSync(v.p('a.txt'), -1, 42);
      st = statSync(v.p('a.txt'));
      expect([st.uid, st.gid]).toEqual([1234, 42]);
      chownSync(v.p('lowdir'), 7, -1);
      st = statSync(v.p('lowdir'));
      expect([st.uid, st.gid]).toEqual([7, 0]);
      lchownSync(v.p('ln'), 99, 98);
      const l = lstatSync(v.p('ln'));
      expect([l.uid, l.gid]).toEqual([99, 98]);
      st = statSync(v.p('a.txt'));
      expect([st.uid, st.gid]).toEqual([1234, 42]);
      chownSync(v.p('ln'), 5, 6); // follows the link
      st = statSync(v.p('a.txt'));
      expect([st.uid, st.gid]).toEqual([5, 6]);
      expect(lstatSync(v.p('ln')).uid).toBe(99);
    },
  },
  {
    title: 'chown to -1, -1 (path or descriptor) changes no id and moves ctime, of lower and new files alike',
    layers: LAYERS,
    run(v) {
      writeFileSync(v.p('new.txt'), 'new');
      const ctime = (rel: string) => statSync(v.p(rel), { bigint: true }).ctimeNs;
      const before = { low: ctime('a.txt'), dir: ctime('lowdir'), fresh: ctime('new.txt') };
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30); // past the clock's granularity
      chownSync(v.p('a.txt'), -1, -1);
      chownSync(v.p('lowdir'), -1, -1);
      const fd = openSync(v.p('new.txt'), 'r');
      try {
        fchownSync(fd, -1, -1);
      } finally {
        closeSync(fd);
      }
      // fuse-native (libfuse 2.9) calls no operation for a setattr that sets nothing: README, transport=.
      const moves = !(v.variant.union && process.env.WORLDFS_TRANSPORT === 'native');
      expect([ctime('a.txt') > before.low, ctime('lowdir') > before.dir, ctime('new.txt') > before.fresh]).toEqual([moves, moves, moves]);
      const st = statSync(v.p('a.txt'));
      expect([st.uid, st.gid, st.mode & 0o7777, readFileSync(v.p('a.txt'), 'utf8')]).toEqual([0, 0, 0o644, 'a from l0']);
    },
  },
  {
    title: 'utimes sets both times of lower files and directories exactly; touch without a date sets both to now',
    layers: LAYERS,
    run(v) {
      utimesSync(v.p('a.txt'), 1_000_000_000.25, 1_100_000_000.5);
      expect(times(v, 'a.txt')).toEqual({ atime: 1_000_000_000_250, mtime: 1_100_000_000_500 });
      utimesSync(v.p('lowdir'), T2002, T2001);
      expect(times(v, 'lowdir')).toEqual({ atime: T2002 * 1000, mtime: T2001 * 1000 });
      utimesSync(v.p('merged'), T2001, T2002);
      expect(times(v, 'merged')).toEqual({ atime: T2001 * 1000, mtime: T2002 * 1000 });
      const before = Date.now() - 2000;
      expect(sh('touch', [v.p('lowdir/f'), v.p('merged/new')]).status).toBe(0);
      for (const rel of ['lowdir/f', 'merged/new']) {
        const t = times(v, rel);
        expect(t.mtime).toBeGreaterThanOrEqual(before);
        expect(t.atime).toBeGreaterThanOrEqual(before);
      }
      expect(readFileSync(v.p('lowdir/f'), 'utf8')).toBe('f');
      expect(statSync(v.p('merged/new')).size).toBe(0);
      lutimesSync(v.p('ln'), T2001, T2001);
      expect(lstatSync(v.p('ln')).mtimeMs).toBe(T2001 * 1000);
    },
  },
  {
    title: 'touch -m -d sets the modification time only and touch -a the access time only',
    layers: LAYERS,
    run(v) {
      // a.txt starts with atime 2002 and mtime 2001 in its lower layer.
      expect(times(v, 'a.txt')).toEqual({ atime: T2002 * 1000, mtime: T2001 * 1000 });
      expect(sh('touch', ['-a', '-d', '@1234567890', v.p('a.txt')]).status).toBe(0);
      expect(times(v, 'a.txt')).toEqual({ atime: 1_234_567_890_000, mtime: T2001 * 1000 });
      expect(sh('touch', ['-m', '-d', '2005-06-07 08:09:10 UTC', v.p('a.txt')]).status).toBe(0);
      expect(times(v, 'a.txt')).toEqual({ atime: 1_234_567_890_000, mtime: Date.UTC(2005, 5, 7, 8, 9, 10) });
      expect(sh('touch', ['-m', '-d', '@1300000000', v.p('lowdir/f')]).status).toBe(0);
      expect(times(v, 'lowdir/f').mtime).toBe(1_300_000_000_000);
      // -h: the symlink itself.
      expect(sh('touch', ['-h', '-m', '-d', '@1400000000', v.p('ln')]).status).toBe(0);
      expect(lstatSync(v.p('ln')).mtimeMs).toBe(1_400_000_000_000);
      expect(times(v, 'a.txt').mtime).toBe(Date.UTC(2005, 5, 7, 8, 9, 10));
    },
  },
  {
    title: 'timestamps keep their nanoseconds, set by touch -d or kept through a copy-up',
    layers: LAYERS,
    run(v) {
      const ns = (rel: string) => sh('stat', ['-c', '%.9X %.9Y', v.p(rel)]).stdout.trim();
      expect(sh('touch', ['-d', '@1000000000.123456789', v.p('a.txt')]).status).toBe(0);
      expect(ns('a.txt')).toBe('1000000000.123456789 1000000000.123456789');
      writeFileSync(v.p('merged/new'), 'n');
      expect(sh('touch', ['-d', '@1100000000.987654321', v.p('merged/new')]).status).toBe(0);
      expect(ns('merged/new')).toBe('1100000000.987654321 1100000000.987654321');
      const before = ns('tagged'); // created by the fixture: a time with nanoseconds
      chmodSync(v.p('tagged'), 0o600);
      expect(ns('tagged')).toBe(before);
    },
  },
  {
    title: 'times past 2262 (more than 64 bits of nanoseconds) are set and shown exactly, and kept through a copy-up',
    layers: [{ 'far.txt': file('far', { atime: T2300, mtime: T2300 }), 'near.txt': 'near' }],
    run(v) {
      // fuse-native carries times as 64-bit nanoseconds (README: transport=native), 1677 to 2262.
      if (v.variant.union && process.env.WORLDFS_TRANSPORT !== 'kernel') return;
      const ns = (rel: string) => sh('stat', ['-c', '%.9X %.9Y', v.p(rel)]).stdout.trim();
      expect(sh('touch', ['-d', '2300-01-01 00:00:00.5 UTC', v.p('near.txt')]).status).toBe(0);
      expect(ns('near.txt')).toBe(`${T2300}.500000000 ${T2300}.500000000`);
      chmodSync(v.p('far.txt'), 0o600); // a lower file: copied up with its times
      expect(ns('far.txt')).toBe(`${T2300}.000000000 ${T2300}.000000000`);
    },
  },
  {
    title: 'access answers F_OK, R_OK, W_OK and X_OK for lower objects as for root; statfs reports a sane filesystem with 255-byte names',
    layers: LAYERS,
    run(v) {
      const { F_OK, R_OK, W_OK, X_OK } = constants;
      accessSync(v.p('a.txt'), F_OK);
      accessSync(v.p('a.txt'), R_OK | W_OK);
      accessSync(v.p('lowdir/f'), W_OK);
      accessSync(v.p('exe'), X_OK);
      accessSync(v.p('lowdir'), R_OK | W_OK | X_OK);
      expect(errno(() => accessSync(v.p('a.txt'), X_OK))).toBe('EACCES');
      expect(errno(() => accessSync(v.p('nope'), F_OK))).toBe('ENOENT');
      expect(errno(() => accessSync(v.p('a.txt/x'), F_OK))).toBe('ENOTDIR');
      const s = statfsSync(v.p());
      expect(s.bsize).toBeGreaterThan(0);
      expect(s.blocks).toBeGreaterThan(0);
      expect(s.bfree).toBeLessThanOrEqual(s.blocks);
      expect(s.bavail).toBeLessThanOrEqual(s.bfree);
      expect(s.files).toBeGreaterThan(0);
      expect(sh('stat', ['-f', '-c', '%l', v.p()]).stdout.trim()).toBe('255');
      expect(statfsSync(v.p('lowdir/f')).blocks).toBe(s.blocks);
      if (v.variant.union) expect(s.blocks).toBe(statfsSync(v.upper).blocks); // the space writes go to
    },
  },
  {
    title: 'user.* xattrs can be set, read, listed and removed on lower and new objects',
    layers: LAYERS,
    run(v) {
      expect(userXattrs(v.p('tagged'))).toEqual({ 'user.color': 'blue', 'user.size': 'large' });
      expect(getx(v.p('tagged'), 'user.color').stdout).toBe('blue');
      expect(sh('setfattr', ['-n', 'user.shape', '-v', 'round', v.p('tagged')]).status).toBe(0);
      expect(sh('setfattr', ['-x', 'user.size', v.p('tagged')]).status).toBe(0);
      expect(userXattrs(v.p('tagged'))).toEqual({ 'user.color': 'blue', 'user.shape': 'round' });
      expect(getx(v.p('tagged'), 'user.size').stderr).toMatch(/No such attribute/);
      expect(sh('setfattr', ['-x', 'user.size', v.p('tagged')]).stderr).toMatch(/No such attribute/);
      expect(readFileSync(v.p('tagged'), 'utf8')).toBe('tagged');
      expect(userXattrs(v.p('lowdir'))).toEqual({ 'user.dir': 'yes' });
      expect(sh('setfattr', ['-n', 'user.dir', '-v', 'changed', v.p('lowdir')]).status).toBe(0);
      expect(getx(v.p('lowdir'), 'user.dir').stdout).toBe('changed');
      writeFileSync(v.p('merged/new'), 'n');
      const long = 'v'.repeat(3000);
      expect(sh('setfattr', ['-n', 'user.long', '-v', long, v.p('merged/new')]).status).toBe(0);
      expect(getx(v.p('merged/new'), 'user.long').stdout).toBe(long);
      expect(userXattrs(v.p('a.txt'))).toEqual({});
    },
  },
  {
    title: 'XATTR_CREATE fails with EEXIST on a set attribute and XATTR_REPLACE with ENODATA on a missing one',
    layers: LAYERS,
    run(v) {
      expect(setxattrFlags(v.p('tagged'), 'user.color', 'red', 'CREATE')).toBe('EEXIST');
      expect(setxattrFlags(v.p('tagged'), 'user.missing', 'x', 'REPLACE')).toBe('ENODATA');
      expect(userXattrs(v.p('tagged'))).toEqual({ 'user.color': 'blue', 'user.size': 'large' });
      expect(setxattrFlags(v.p('tagged'), 'user.color', 'red', 'REPLACE')).toBe('OK');
      expect(setxattrFlags(v.p('tagged'), 'user.new', 'x', 'CREATE')).toBe('OK');
      expect(userXattrs(v.p('tagged'))).toEqual({ 'user.color': 'red', 'user.size': 'large', 'user.new': 'x' });
      expect(setxattrFlags(v.p('lowdir/f'), 'user.a', '1', 'REPLACE')).toBe('ENODATA');
      expect(setxattrFlags(v.p('lowdir/f'), 'user.a', '1', 'CREATE')).toBe('OK');
      expect(setxattrFlags(v.p('lowdir/f'), 'user.a', '2', 'CREATE')).toBe('EEXIST');
      expect(getx(v.p('lowdir/f'), 'user.a').stdout).toBe('1');
    },
  },
  {
    title: 'directories recreated or renamed over lower ones show no attribute of the whiteout format',
    layers: LAYERS,
    run(v) {
      sh('rm', ['-r', v.p('merged')]);
      mkdirSync(v.p('merged'));
      chmodSync(v.p('lowdir'), 0o755);
      sh('mv', [v.p('lowdir'), v.p('moved')]);
      symlinkSync('x', v.p('merged/l'));
      for (const rel of ['merged', 'moved', '']) {
        const r = sh('getfattr', ['--absolute-names', '-d', '-m', '-', v.p(rel)]);
        expect(r.stdout).not.toMatch(/overlay|\.wh\./);
      }
      expect(userXattrs(v.p('moved'))).toEqual({ 'user.dir': 'yes' });
      expect(getx(v.p('merged'), 'trusted.overlay.opaque').stderr).toMatch(/No such attribute/);
      expect(getx(v.p('moved'), 'trusted.overlay.redirect').stderr).toMatch(/No such attribute/);
    },
  },
  {
    title: 'overlay format: its trusted.overlay.* attributes cannot be set through the view',
    layers: LAYERS,
    only: ['overlay'],
    run(v) {
      expect(sh('setfattr', ['-n', 'trusted.overlay.opaque', '-v', 'y', v.p('merged')]).stderr).toMatch(/Operation not permitted/);
      expect(sh('setfattr', ['-n', 'trusted.overlay.redirect', '-v', '/lowdir', v.p('merged')]).stderr).toMatch(/Operation not permitted/);
      expect(readFileSync(v.p('merged/one'), 'utf8')).toBe('1');
      expect(sh('setfattr', ['-x', 'trusted.overlay.opaque', v.p('merged')]).stderr).toMatch(/No such attribute/);
    },
  },
  {
    title: 'a write or truncate by a user without CAP_FSETID drops setuid, and setgid when the group may execute; root\'s keeps them',
    layers: [{
      suid: file('#!/bin/sh\n', { mode: 0o4777 }), sgid: file('#!/bin/sh\n', { mode: 0o2777 }),
      sgidNoExec: file('data\n', { mode: 0o2767, gid: 1000 }), cut: file('#!/bin/sh\n', { mode: 0o6777 }), rootw: file('#!/bin/sh\n', { mode: 0o4755 }),
    }],
    run(v) {
      // sgidNoExec is the writer's group's: a non-member's write drops setgid on ext4 (Linux 6.x)
      // even without group execute, while FUSE's rule (the kernel's, and HANDLE_KILLPRIV_V2's) keeps it.
      chmodSync(v.base, 0o755); // uid 1000 must reach the view (the oracle lives in base too)
      chmodSync(v.root, 0o755);
      const asUser = (cmd: string) => {
        const r = sh('setpriv', ['--reuid=1000', '--regid=1000', '--clear-groups', 'sh', '-c', cmd]);
        expect(r.stderr).toBe('');
      };
      asUser(`printf x >> ${v.p('suid')}; printf x >> ${v.p('sgid')}; printf x >> ${v.p('sgidNoExec')}; truncate -s 2 ${v.p('cut')}`);
      writeFileSync(v.p('rootw'), '#!/bin/sh\nexit 0\n');
      const mode = (rel: string) => statSync(v.p(rel)).mode & 0o7777;
      expect(['suid', 'sgid', 'sgidNoExec', 'cut', 'rootw'].map((f) => [f, mode(f)])).toEqual([
        ['suid', 0o777], ['sgid', 0o777], ['sgidNoExec', 0o2767], ['cut', 0o777], ['rootw', 0o4755],
      ]);
      expect(readFileSync(v.p('cut'), 'utf8')).toBe('#!');
    },
  },
];

runCases('worldfs attributes', cases);
