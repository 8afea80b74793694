// open(2) with O_TMPFILE through a worldfs view: a regular file with no name, which linkat(2) can
// name later unless it was made with O_EXCL, and which leaves nothing when closed unnamed. The
// kernel transport serves it (FUSE_TMPFILE, then LINK of the nameless node); fuse-native's
// libfuse 2.9 has no such operation, and there open(O_TMPFILE) fails EOPNOTSUPP. Every row runs
// on worldfs with aufs and overlay whiteouts and on a plain directory (ext4: the oracle), the
// programs being Python's os.open and os.link (linkat of /proc/self/fd/N with AT_SYMLINK_FOLLOW).
import { chmodSync, chownSync, mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { file, type Tree } from './support/tree.js';
import { runCases, sh, type Case, type View } from './support/views.js';

const KERNEL = process.env.WORLDFS_TRANSPORT === 'kernel';

const L0: Tree = {
  ldir: { inner: 'inside' },
  'low.txt': file('lower data', { mode: 0o644 }),
  'other.txt': 'the other file',
};
const LAYERS = [L0];

/**
 * In directory `dir`: open a file with O_TMPFILE (with O_EXCL when `excl`), write to it, fstat it,
 * then (with `name`) link it there by its descriptor and write more, and close it. What each step
 * gave, as JSON: fstat's nlink, size and mode before the link, the link's outcome (OK or the errno
 * name), nlink after it; `open` alone when the open failed.
 */
const SCRIPT = `
import errno, json, os, sys
d, excl, name = sys.argv[1], sys.argv[2] == 'excl', sys.argv[3] if len(sys.argv) > 3 else None
try:
    fd = os.open(d, os.O_TMPFILE | os.O_RDWR | (os.O_EXCL if excl else 0), 0o640)
except OSError as e:
    print(json.dumps({'open': errno.errorcode[e.errno]}))
    sys.exit(0)
os.write(fd, b'made with no name')
st = os.fstat(fd)
out = {'nlink': st.st_nlink, 'size': st.st_size, 'mode': st.st_mode & 0o7777, 'gid': st.st_gid}
if name is not None:
    dfd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        # with a dir_fd, Python calls linkat (AT_SYMLINK_FOLLOW); without, link(2), which follows nothing
        os.link('/proc/self/fd/%d' % fd, name, dst_dir_fd=dfd, follow_symlinks=True)
        out['link'] = 'OK'
        out['ino'] = os.stat(os.path.join(d, name)).st_ino == os.fstat(fd).st_ino
    except OSError as e:
        out['link'] = errno.errorcode[e.errno]
    os.close(dfd)
    os.write(fd, b', then written by its descriptor')
    out['nlinkAfter'] = os.fstat(fd).st_nlink
os.close(fd)
print(json.dumps(out))
`;

interface Made {
  readonly open?: string;
  readonly nlink?: number;
  readonly size?: number;
  readonly mode?: number;
  readonly gid?: number;
  readonly link?: string;
  readonly ino?: boolean;
  readonly nlinkAfter?: number;
}

function tmpfileIn(dir: string, excl: boolean, name?: string): Made {
  const r = sh('python3', ['-c', SCRIPT, dir, excl ? 'excl' : '-', ...(name === undefined ? [] : [name])]);
  if (r.status !== 0) throw new Error(`python3: ${r.stderr}`);
  return JSON.parse(r.stdout) as Made;
}

/** Whether this view serves O_TMPFILE; if not, the open must fail EOPNOTSUPP (fuse-native). */
function served(v: View, made: Made): boolean {
  if (v.variant.union && !KERNEL) {
    expect(made).toEqual({ open: 'ENOTSUP' }); // errno 95, EOPNOTSUPP, by Python's first name for it
    return false;
  }
  return true;
}

/** Entries of the work directory, where a union makes its files with no name. */
const workEntries = (v: View): string[] => (v.variant.union ? readdirSync(v.work) : []);

const cases: Case[] = [
  {
    title: 'a file made with no name in a lower directory gets one from linkat: its data, mode and number show by that name, and later writes through its descriptor too',
    layers: LAYERS,
    run(v) {
      const made = tmpfileIn(v.p('ldir'), false, 'named');
      if (!served(v, made)) return;
      expect(made).toEqual({ nlink: 0, size: 17, mode: 0o640, gid: 0, link: 'OK', ino: true, nlinkAfter: 1 });
      expect(readFileSync(v.p('ldir/named'), 'utf8')).toBe('made with no name, then written by its descriptor');
      expect(statSync(v.p('ldir/named')).mode & 0o7777).toBe(0o640);
      expect(readdirSync(v.p('ldir')).sort()).toEqual(['inner', 'named']);
      if (v.variant.union) expect(readFileSync(join(v.upper, 'ldir', 'named'), 'utf8')).toBe('made with no name, then written by its descriptor');
      expect(workEntries(v)).toEqual([]);
    },
  },
  {
    title: 'made with O_EXCL, it can never be linked (ENOENT), and nothing is left once it is closed',
    layers: LAYERS,
    run(v) {
      const made = tmpfileIn(v.p('ldir'), true, 'named');
      if (!served(v, made)) return;
      expect(made).toEqual({ nlink: 0, size: 17, mode: 0o640, gid: 0, link: 'ENOENT', nlinkAfter: 0 });
      expect(readdirSync(v.p('ldir'))).toEqual(['inner']);
      expect(workEntries(v)).toEqual([]);
    },
  },
  {
    title: 'closed without a name, it leaves nothing in the view, the top layer or the work directory',
    layers: LAYERS,
    run(v) {
      const made = tmpfileIn(v.p(''), false);
      if (!served(v, made)) return;
      expect(made).toEqual({ nlink: 0, size: 17, mode: 0o640, gid: 0 });
      expect(readdirSync(v.p('')).sort()).toEqual(['ldir', 'low.txt', 'other.txt']);
      if (v.variant.union) expect(readdirSync(v.upper)).toEqual([]);
      expect(workEntries(v)).toEqual([]);
    },
  },
  {
    title: 'it takes a name the view removed from a lower layer (a whiteout), and not one that exists (EEXIST)',
    layers: LAYERS,
    run(v) {
      unlinkSync(v.p('low.txt'));
      const made = tmpfileIn(v.p(''), false, 'low.txt');
      if (!served(v, made)) return;
      expect(made.link).toBe('OK');
      expect(readFileSync(v.p('low.txt'), 'utf8')).toBe('made with no name, then written by its descriptor');
      expect(tmpfileIn(v.p(''), false, 'other.txt').link).toBe('EEXIST');
      expect(readFileSync(v.p('other.txt'), 'utf8')).toBe('the other file');
      expect(readdirSync(v.p('')).sort()).toEqual(['ldir', 'low.txt', 'other.txt']);
    },
  },
  {
    title: 'in a setgid directory it takes the directory\'s group, as a file created there would',
    layers: LAYERS,
    run(v) {
      mkdirSync(v.p('shared'));
      chownSync(v.p('shared'), 0, 4242);
      chmodSync(v.p('shared'), 0o2775);
      const made = tmpfileIn(v.p('shared'), false, 'named');
      if (!served(v, made)) return;
      expect(made).toMatchObject({ gid: 4242, link: 'OK' });
      expect(statSync(v.p('shared/named')).gid).toBe(4242);
    },
  },
];

runCases('O_TMPFILE', cases, { kernelOpens: true });
