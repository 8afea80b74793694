// Copy-up through a worldfs view: the first change to a lower object copies it into the upper
// layer with its content, mode, owner, timestamps, xattrs and symlink target, keeping holes.
// Rows run on worldfs (aufs and overlay whiteouts) and on a plain directory, the oracle: there the
// same operations show what the view must report. Checks of the upper copy apply to worldfs only.
import { createHash } from 'node:crypto';
import {
  appendFileSync, chmodSync, closeSync, existsSync, lchownSync, lstatSync, openSync, readdirSync, readFileSync,
  readlinkSync, readSync, renameSync, statSync, utimesSync, writeFileSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { big, dir, fifo, file, sparse, symlink } from './support/tree.js';
import { runCases, sh, type Case, type View } from './support/views.js';

const T2001 = 978307200;
const T2002 = 1009843200;
const MiB = 1 << 20;
const OWNED = { uid: 1234, gid: 5678 };

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** user.* xattrs via getfattr, as name -> value. */
function userXattrs(path: string): Record<string, string> {
  const r = sh('getfattr', ['--absolute-names', '-h', '-d', '-m', '^user\\.', path]);
  const out: Record<string, string> = {};
  for (const line of r.stdout.split('\n')) {
    const m = /^([^#=][^=]*)="(.*)"$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** The view's stat of `rel`; for worldfs, the upper copy must have the same mode and owner. */
function statBoth(v: View, rel: string, follow = true) {
  const view = follow ? statSync(v.p(rel)) : lstatSync(v.p(rel));
  if (v.variant.union) {
    const up = lstatSync(join(v.upper, rel));
    expect({ mode: up.mode, uid: up.uid, gid: up.gid }, `the upper copy of ${rel}`).toEqual({ mode: view.mode, uid: view.uid, gid: view.gid });
  }
  return view;
}

/** For worldfs, the upper copy's mtime in whole milliseconds (the view has no finer precision). */
const upperMtime = (v: View, rel: string) => Math.trunc(lstatSync(join(v.upper, rel)).mtimeMs);

const cases: Case[] = [
  {
    title: 'reading, listing and stat-ing lower objects copies nothing up',
    layers: [{ a: 'a', d: { f: 'f' } }, { b: 'b', d: { g: 'g' } }],
    run(v) {
      expect(readFileSync(v.p('a'), 'utf8')).toBe('a');
      expect(readFileSync(v.p('d/g'), 'utf8')).toBe('g');
      expect(readdirSync(v.p('d')).sort()).toEqual(['f', 'g']);
      statSync(v.p('b'));
      closeSync(openSync(v.p('b'), 'r'));
      if (v.variant.union) expect(readdirSync(v.upper)).toEqual([]);
    },
  },
  {
    title: 'a partial write keeps every other byte of a 3 MiB lower file',
    layers: [{ data: { blob: big(3 * MiB, 7) } }],
    run(v) {
      const before = readFileSync(v.p('data/blob'));
      expect(before.length).toBe(3 * MiB);
      const fd = openSync(v.p('data/blob'), 'r+');
      writeSync(fd, 'PATCH', MiB + 3);
      closeSync(fd);
      const expected = Buffer.from(before);
      expected.write('PATCH', MiB + 3);
      expect(sha(readFileSync(v.p('data/blob')))).toBe(sha(expected));
      if (v.variant.union) expect(sha(readFileSync(join(v.upper, 'data/blob')))).toBe(sha(expected));
    },
  },
  {
    title: 'copy-up keeps the mode of files, fifos and the directories above them',
    layers: [{ d: dir({ f: file('f', { mode: 0o640 }), s: file('s', { mode: 0o4750 }) }, { mode: 0o711 }), p: fifo({ mode: 0o640, ...OWNED }) }],
    run(v) {
      appendFileSync(v.p('d/f'), '+');
      expect(statBoth(v, 'd/f').mode & 0o7777).toBe(0o640);
      expect(statBoth(v, 'd').mode & 0o7777).toBe(0o711);
      utimesSync(v.p('d/s'), T2001, T2001);
      expect(statBoth(v, 'd/s').mode & 0o7777).toBe(0o4750);
      chmodSync(v.p('p'), 0o600);
      const st = statBoth(v, 'p', false);
      expect(st.isFIFO()).toBe(true);
      expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o600, 1234, 5678]);
    },
  },
  {
    title: 'a chmod-only change keeps owner 1234:5678, times and content; a new file leaves its lower directory\'s owner alone',
    layers: [{
      d: dir({ f: file('owned', { ...OWNED, mode: 0o644, atime: T2002, mtime: T2001 }), g: 'natural times' }, { ...OWNED, mtime: T2001 }),
      o: dir({}, { ...OWNED, mode: 0o777 }),
    }],
    run(v) {
      if (v.variant.union) {
        // The fixture's own times have nanoseconds; the upper copy must keep them exactly.
        chmodSync(v.p('d/g'), 0o600);
        const lower = lstatSync(join(v.lowers[0]!, 'd/g'), { bigint: true });
        const upper = lstatSync(join(v.upper, 'd/g'), { bigint: true });
        expect.soft(upper.mtimeNs, 'mtime of the upper copy of d/g, in ns').toBe(lower.mtimeNs); // (atime: the copy read the lower file)
      }
      chmodSync(v.p('d/f'), 0o600);
      const st = statBoth(v, 'd/f');
      expect({ mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtimeMs, atime: st.atimeMs })
        .toEqual({ mode: 0o600, ...OWNED, mtime: T2001 * 1000, atime: T2002 * 1000 });
      const d = statBoth(v, 'd'); // copied up as the parent: its owner and mtime too
      expect({ uid: d.uid, gid: d.gid, mtime: d.mtimeMs }).toEqual({ ...OWNED, mtime: T2001 * 1000 });
      if (v.variant.union) {
        expect(upperMtime(v, 'd/f'), 'mtime of the upper copy of d/f').toBe(T2001 * 1000);
        expect(upperMtime(v, 'd'), 'mtime of the upper copy of d, the parent copied up with d/f').toBe(T2001 * 1000);
      }
      expect(readFileSync(v.p('d/f'), 'utf8')).toBe('owned');
      writeFileSync(v.p('o/new'), 'n');
      const o = statBoth(v, 'o');
      expect([o.uid, o.gid, o.mode & 0o7777]).toEqual([1234, 5678, 0o777]);
      const f = statSync(v.p('o/new'));
      expect([f.uid, f.gid]).toEqual([0, 0]);
    },
  },
  {
    title: 'copy-up keeps user xattrs of files and directories',
    layers: [{ d: dir({ f: file('f', { xattrs: { 'user.color': 'blue', 'user.empty': '' } }) }, { xattrs: { 'user.tag': 'dir' } }) }],
    run(v) {
      appendFileSync(v.p('d/f'), '+');
      expect(userXattrs(v.p('d/f'))).toEqual({ 'user.color': 'blue', 'user.empty': '' });
      expect(userXattrs(v.p('d'))).toEqual({ 'user.tag': 'dir' });
      if (v.variant.union) {
        // On the host the aufs format's own bookkeeping is there too (user.worldos.origin: the inode number).
        const data = (xs: Record<string, string>) => Object.fromEntries(Object.entries(xs).filter(([k]) => !k.startsWith('user.worldos.')));
        expect(data(userXattrs(join(v.upper, 'd/f')))).toEqual({ 'user.color': 'blue', 'user.empty': '' });
        expect(data(userXattrs(join(v.upper, 'd')))).toEqual({ 'user.tag': 'dir' });
      }
    },
  },
  {
    title: 'copy-up of a symlink keeps its target, owner and mtime',
    layers: [{ d: { rel: symlink('../x/y', { ...OWNED, mtime: T2001 }), abs: symlink('/nonexistent/target', { mtime: T2001 }) } }],
    run(v) {
      lchownSync(v.p('d/rel'), 42, 43);
      const l = statBoth(v, 'd/rel', false);
      expect(readlinkSync(v.p('d/rel'))).toBe('../x/y');
      expect([l.uid, l.gid, l.mtimeMs]).toEqual([42, 43, T2001 * 1000]);
      if (v.variant.union) expect(upperMtime(v, 'd/rel')).toBe(T2001 * 1000);
      renameSync(v.p('d/abs'), v.p('d/abs2'));
      expect(readlinkSync(v.p('d/abs2'))).toBe('/nonexistent/target');
      expect(lstatSync(v.p('d/abs2')).mtimeMs).toBe(T2001 * 1000);
      if (v.variant.union) {
        expect(readlinkSync(join(v.upper, 'd/rel'))).toBe('../x/y');
        expect(readlinkSync(join(v.upper, 'd/abs2'))).toBe('/nonexistent/target');
      }
    },
  },
  {
    title: 'appending to a 100 MiB sparse lower file keeps its holes',
    layers: [{ sparse: sparse(100 * MiB, [[50 * MiB, 'D'.repeat(4096)]]) }],
    run(v) {
      expect(statSync(v.p('sparse')).blocks * 512).toBeLessThan(MiB); // the fixture itself is sparse
      appendFileSync(v.p('sparse'), 'tail');
      const st = statSync(v.p('sparse'));
      expect(st.size).toBe(100 * MiB + 4);
      expect(st.blocks * 512).toBeLessThan(MiB);
      if (v.variant.union) {
        const up = statSync(join(v.upper, 'sparse'));
        expect(up.size).toBe(100 * MiB + 4);
        expect(up.blocks * 512).toBeLessThan(MiB);
      }
      const fd = openSync(v.p('sparse'), 'r');
      const buf = Buffer.alloc(4100);
      expect(readSync(fd, buf, 0, 4096, 50 * MiB)).toBe(4096);
      expect(buf.subarray(0, 4096).toString()).toBe('D'.repeat(4096));
      expect(readSync(fd, buf, 0, 4100, 10 * MiB)).toBe(4100);
      expect(buf.every((b) => b === 0)).toBe(true);
      expect(readSync(fd, buf, 0, 100, 100 * MiB)).toBe(4);
      expect(buf.subarray(0, 4).toString()).toBe('tail');
      closeSync(fd);
    },
  },
  {
    title: 'truncating a large lower file copies only what stays',
    layers: [{ blob: big(8 * MiB, 3) }],
    run(v) {
      const head = readFileSync(v.p('blob')).subarray(0, 1000);
      sh('truncate', ['-s', '1000', v.p('blob')]);
      expect(sha(readFileSync(v.p('blob')))).toBe(sha(head));
      if (v.variant.union) expect(statSync(join(v.upper, 'blob')).size).toBe(1000);
      expect(existsSync(v.p('blob'))).toBe(true);
    },
  },
];

runCases('worldfs copy-up', cases, { kernelOpens: true });
