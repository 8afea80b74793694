// A directory renamed through the view takes its redirect marker along, and the daemon's notifier
// knows it at once, before any watch event: fanotify drops the daemon's own events, so nothing
// else would tell it (a lower change under the old name then missed the new one: the kernel kept
// the old data for notify_timeout). Real layers through setup(); no mount, no event-loop turn.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../../fs/options.js';
import { setup } from '../../fs/setup.js';
import type { ViewPath } from '../../src/core/paths.js';

let dir: string;
const closers: (() => void)[] = [];
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'worldos-redirect-known-')); });
afterEach(() => {
  for (const c of closers.splice(0)) c();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(['aufs', 'overlay'])('whiteout=%s', (whiteout) => {
  it('maps the old directory of the lower layer to the new view name as soon as the rename returns', () => {
    for (const d of ['low/before', 'up', 'work', 'mnt']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'low/before/f'), 'v1');
    const opts = parseArgs(['-o', `lowerdir=${dir}/low,upperdir=${dir}/up,workdir=${dir}/work,whiteout=${whiteout},notify=auto`, join(dir, 'mnt')]);
    const s = setup(opts);
    closers.push(() => s.notifier?.close());
    s.fs.rename('/before' as ViewPath, '/after' as ViewPath);
    expect(s.notifier!.redirects.viewDirsOf(1, 'before')).toContain('after');
    s.fs.rename('/after' as ViewPath, '/again' as ViewPath);
    const shown = s.notifier!.redirects.viewDirsOf(1, 'before');
    expect(shown).toContain('again');
    expect(shown).not.toContain('after');
  });
});
