// Merges of paths deeper than PATH_MAX (issue 12): a child world changes objects 30 levels of
// 200-byte names down (about 6,000 bytes: every host path of the merge is past PATH_MAX) — new
// files and directories, a changed lower file, a removed one, a renamed one, a removed directory —
// below directories its parent's layer holds too, and `worldctl merge` folds them into its parent, whose view then shows exactly the child's.
import { spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WorldsFixture } from '../helpers/worldctl.js';

const DEPTH = 30;
const PRELUDE = `
set -e
pad=$(printf 'x%.0s' $(seq 196))
down() { for i in $(seq -w 1 ${DEPTH}); do mkdir -p "l$i$pad" && cd "l$i$pad"; done; }
cd "$1"; down
`;

/** The base's deep objects. */
const BUILD = `${PRELUDE}
printf 'one\\n' > f1; printf 'two\\n' > f2; printf 'three\\n' > f3
mkdir gone; printf 'g\\n' > gone/g
mkdir keep; printf 'k\\n' > keep/k
`;

/** The parent's own change down there: its layer then holds the deep directories too, so the merge moves objects deep inside them. */
const PARENT = `${PRELUDE}
printf 'p\n' > parentfile
printf 'kp\n' > keep/kp
`;

/** What the child does down there, through its mount. */
const CHANGE = `${PRELUDE}
printf 'new\\n' > fresh
printf 'more\\n' >> f1
rm f2
mv f3 f3moved
rm -r gone
mkdir -p newdir/inner; printf 'n\\n' > newdir/inner/n
printf 'k2\\n' > keep/k2
`;

/** The deep directory's tree, names shortened, with contents. */
const SHOW = `${PRELUDE}
find . -printf '%P %y\\n' | sed "s/$pad/~/g" | sort
for f in $(find . -type f | sort); do printf '%s: %s\\n' "$f" "$(cat "$f")"; done
`;

function bash(script: string, dir: string): string {
  const r = spawnSync('bash', ['-c', script, 'bash', dir], { encoding: 'utf8', maxBuffer: 16 << 20 });
  if (r.status !== 0) throw new Error(`bash exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

describe('merging changes deeper than PATH_MAX', () => {
  let fx: WorldsFixture;
  beforeEach(() => { fx = WorldsFixture.make('worldos-e2e-deep-merge-'); });
  afterEach(async () => { await fx.cleanup(); });

  it.each(['aufs', 'overlay'])('with %s whiteouts, the parent shows what the child showed', async (whiteout) => {
    bash(BUILD, fx.base);
    await fx.ok(['init', '--base', fx.base, '--whiteout', whiteout]);
    await fx.ok(['create', 'Parent']);
    bash(PARENT, await fx.mount('Parent'));
    await fx.umount('Parent');
    await fx.ok(['create', 'Child', '--from', 'Parent']);
    const child = await fx.mount('Child');
    bash(CHANGE, child);
    const expected = bash(SHOW, child);
    await fx.umount('Child');
    expect(expected).toContain('./f1: one\nmore');
    expect(expected).not.toContain('gone');
    expect(expected).toContain('./parentfile: p');

    await fx.ok(['merge', 'Child', '--into', 'Parent']);
    const parent = await fx.mount('Parent');
    expect(bash(SHOW, parent)).toBe(expected);
    await fx.umount('Parent');
    const base = bash(SHOW, fx.base);
    expect(base).toContain('./f2: two');
    expect(base).toContain('./gone/g: g');
  });
});
