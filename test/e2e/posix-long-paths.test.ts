// Deep paths (issue 12, C): directories nested far past PATH_MAX (4,096 bytes), worked in the way
// programs do — `cd` down, then relative names — so no system call the client makes is long, while
// the daemon's host paths (upperdir + the path in the view) are. Every operation down there, on
// new objects and on lower ones (copy-up, metacopy, whiteouts of files and directories, a renamed
// directory's redirect), gives the transcript a plain ext4 directory gives (the oracle).
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountWorldfs, tempDir, unmountAll, type Mounted } from '../helpers/worldfs.js';

/** 30 levels of 200-byte names: about 6,000 bytes below the root, two chunks for the daemon. */
const DEPTH = 30;
const PRELUDE = `
set +e
pad=$(printf 'x%.0s' $(seq 196))
up=$(printf '../%.0s' $(seq ${DEPTH}))
down() { for i in $(seq -w 1 ${DEPTH}); do mkdir -p "l$i$pad" && cd "l$i$pad" || exit 9; done; }
`;

/** The lower layer's deep objects (or, for the oracle, the same objects in the plain directory). */
const BUILD = `${PRELUDE}
set -e
cd "$1"; down
printf 'one\\n' > f1; printf 'two\\n' > f2; printf 'three\\n' > f3; printf 'four\\n' > f4; printf 'five\\n' > f5
printf 'truncate me\\n' > t1
setfattr -n user.color -v blue f4
mkdir sub; printf 'x\\n' > sub/x
mkdir ld; printf 'inner\\n' > ld/inner; mkdir ld/ldsub; printf 'i2\\n' > ld/ldsub/i2
ln -s f1 lsym
mkfifo lfifo
chmod 640 f3
printf 'long name\\n' > $(printf 'z%.0s' $(seq 200))
`;

/**
 * Every operation down there; each step prints its output and exit status. The \`same\` steps
 * compare inode numbers with those taken before anything was copied up: a copy-up keeps st_ino,
 * of the deep directories and files as of short ones (their origin records are stored by name).
 */
const OPS = `${PRELUDE}
cd "$1"; down
ids() { stat -c %i . .. "\${up}l01$pad" f2 f3 sub ld ld/ldsub; }
ino0=$(ids); ino_f5=$(stat -c %i f5); ino_ld=$(stat -c %i ld ld/ldsub)
same() { [ "$(ids)" = "$ino0" ] && echo same || echo changed; }
moved_same() { [ "$(stat -c %i moved)" = "$ino_f5" ] && echo same || echo changed; }
ld2_same() { [ "$(stat -c %i ld2 ld2/ldsub)" = "$ino_ld" ] && echo same || echo changed; }
r() { local h="## $*" o rc; o=$("$@" 2>&1); rc=$?; echo "\${h//$pad/~}"; [ -z "$o" ] || echo "\${o//$pad/~}"; echo "rc=$rc"; }
r stat -c '%n %s %a %F %h' f1 f2 f3 f4 lsym lfifo
r ls -A
r cat f1 lsym $(printf 'z%.0s' $(seq 200))
r readlink lsym
r getfattr --only-values -n user.color f4
r sh -c 'echo more >> f2'
r cat f2
r same
r chmod 600 f3
r stat -c '%a %s' f3
r cat f3
r same
r touch -m -d @1000000 f1
r stat -c '%Y' f1
r setfattr -n user.size -v big f4
r getfattr -d f4
r setfattr -x user.color f4
r getfattr -d f4
r mv f5 moved
r cat moved
r moved_same
r stat f5
r rm f1
r stat f1
r sh -c 'echo again > f1'
r cat f1
r ln f4 f4link
r stat -c '%n %h' f4 f4link
r cat f4link
r rmdir sub
r rm sub/x
r rmdir sub
r stat sub
r mkdir sub
r ls -A sub
r mv ld ld2
r ls -A ld2 ld2/ldsub
r ld2_same
r cat ld2/inner ld2/ldsub/i2
r stat ld
r mkdir ld
r ls -A ld
r truncate -s 4 t1
r cat t1
r mkfifo p
r stat -c '%n %F' p lfifo
r ln -s ../target newsym
r readlink newsym
r mv f2 "\${up}f2-at-root"
r cat "\${up}f2-at-root"
r mv "\${up}f2-at-root" f2back
r cat f2back
r mv ld2 ../ld-up
r ls -A ../ld-up
r bash -c 'for i in $(seq 20); do mkdir "n$i$0" && cd "n$i$0" || exit 1; done; echo data > deepest; cat deepest; ln -s deepest s; cat s; mv deepest d2; ls -A; rm s d2; ls -A' "$pad"
r rm -r n1$pad
r ls -A
r ls -A ..
echo "## tree"
find . ! -type d -printf '%P %y %m %s %n\\n' | sed "s/$pad/~/g" | sort
find . -type d -printf '%P %m\\n' | sed "s/$pad/~/g" | sort
`;

function bash(script: string, dir: string): { status: number | null; out: string } {
  const r = spawnSync('bash', ['-c', script, 'bash', dir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return { status: r.status, out: r.stdout + r.stderr };
}

/** A host tree's entries (deep ones too: find walks with descriptors), to prove a lower layer untouched. */
function fingerprint(dir: string): string {
  return bash(`cd "$1" && find . -printf '%P %y %m %s %n %T@ %C@\\n' | sort`, dir).out;
}

describe('deep paths: a plain directory (the oracle) and worldfs in every whiteout format', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => { tmp = tempDir('worldos-deep-'); });
  afterEach(async () => {
    await unmountAll();
    tmp.cleanup();
  });

  /** The transcript of OPS in a plain directory holding the deep objects. */
  function oracle(): string {
    const plain = join(tmp.path, 'plain');
    mkdirSync(plain);
    expect(bash(BUILD, plain).status).toBe(0);
    const r = bash(OPS, plain);
    expect(r.status).toBe(0);
    return r.out;
  }

  it('the oracle runs every operation down there, and the expected ones fail', () => {
    const out = oracle();
    expect(out).toContain('## cat f2back\ntwo\nmore\nrc=0');
    expect(out).toContain('## rmdir sub\nrmdir: failed to remove \'sub\': Directory not empty\nrc=1');
    expect(out).toContain('## ls -A ../ld-up\ninner\nldsub\nrc=0');
    expect(out).toContain('## stat -c %n %h f4 f4link\nf4 2\nf4link 2\nrc=0');
    expect(out.match(/rc=0/g)!.length).toBeGreaterThan(40);
    expect(out.match(/^same$/gm)!.length, 'st_ino checks').toBe(4);
  });

  it.each(['aufs', 'overlay'])('worldfs with %s whiteouts gives the oracle\'s transcript, lower layer untouched', async (whiteout) => {
    const expected = oracle();
    const lower = join(tmp.path, 'lower');
    const dirs = ['upper', 'work', 'mnt'].map((d) => join(tmp.path, d));
    for (const d of [lower, ...dirs]) mkdirSync(d);
    expect(bash(BUILD, lower).status).toBe(0);
    const before = fingerprint(lower);
    const [upper, work, mnt] = dirs as [string, string, string];
    const m: Mounted = await mountWorldfs({ lowers: [lower], upper, work, mnt, whiteout });
    const r = bash(OPS, mnt);
    expect(r.out).toBe(expected);
    expect(r.status).toBe(0);
    expect(fingerprint(lower)).toBe(before);
    expect(m.stderr()).not.toMatch(/unexpected error/);
  });
});
