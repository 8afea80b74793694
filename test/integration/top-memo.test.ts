// The daemon's top memo (src/core/top-memo.ts) against the layers themselves, over real temporary
// directories (no mount): random name operations through WorldFs, as a daemon serves them, and
// changes to the lower layer reported as its watch would; after each one every path of a small
// pool resolves through the memo (remembered answers and directory nodes) exactly as it does when
// the layers are read afresh — for each whiteout format. A write that forgot to report itself
// (LayerWriter), or a node kept past a change it depends on, shows as a difference here.
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFsError } from '../../src/core/errors.js';
import { toViewPath } from '../../src/core/paths.js';
import { resolve, type LayerProbe } from '../../src/core/resolve.js';
import { whiteoutFormat } from '../../src/core/whiteout/index.js';
import { HostLayers } from '../../src/host/layer-probe.js';
import { parseArgs } from '../../fs/options.js';
import { setup } from '../../fs/setup.js';
import type { WorldFs } from '../../fs/worldfs.js';
import { Prng } from '../helpers/prng.js';

const FORMATS = process.getuid?.() === 0 ? ['aufs', 'overlay-user', 'overlay'] : ['aufs', 'overlay-user'];
const NAMES = ['a', 'b', 'c'];
/** Every path of depth 1..3 made of NAMES. */
const POOL = (() => {
  let level = [''];
  const out: string[] = [];
  for (let d = 0; d < 3; d++) {
    level = level.flatMap((p) => NAMES.map((n) => `${p}/${n}`));
    out.push(...level);
  }
  return out;
})();

let base: string;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'worldos-top-memo-'));
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

/** A lower layer with directories and files at the pool's names, so removals leave whiteouts and renames redirects. */
function lowerTree(root: string): void {
  mkdirSync(join(root, 'a/b'), { recursive: true });
  mkdirSync(join(root, 'b'));
  writeFileSync(join(root, 'a/c'), 'c');
  writeFileSync(join(root, 'a/b/a'), 'x');
  writeFileSync(join(root, 'c'), 'c');
  symlinkSync('a', join(root, 'b/c'));
}

/** What resolving `path` gives, comparable across probes: its kind and branches, or the error code. */
function seen(path: string, probe: LayerProbe, format: ReturnType<typeof whiteoutFormat>): unknown {
  try {
    const r = resolve(toViewPath(path), probe, format);
    return r.kind === 'absent' ? { absent: r.whiteoutAt ?? null } : { kind: r.node.entry.kind, branches: r.node.branches };
  } catch (e) {
    if (isFsError(e)) return e.code;
    throw e;
  }
}

/** List `rel` in the top layer as a readdir would; a symlink there is refused (ELOOP), as in a daemon. */
function listTop(layers: HostLayers, rel: string): void {
  try {
    layers.list(0, rel);
  } catch (e) {
    if ((e as { code?: string }).code !== 'ELOOP') throw e;
  }
}

/**
 * A change to the lower layer made behind the view, reported as the layer's watch would
 * (LayerNotifier: the directory's records, and everything at and below the name).
 */
function lowerChange(layers: HostLayers, p: string, rng: Prng): void {
  const rel = p.slice(1);
  const dir = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
  const host = layers.hostPath(1, rel);
  let isDir = false;
  try {
    isDir = lstatSync(layers.hostPath(1, dir)).isDirectory();
  } catch { /* missing, or below a file */ }
  if (isDir) {
    rmSync(host, { recursive: true, force: true });
    if (rng.chance(0.5)) mkdirSync(host);
    else if (rng.chance(0.5)) writeFileSync(host, 'l');
  }
  layers.cache.changed(1, dir, false);
  layers.cache.changed(1, rel, true);
}

/** One random operation through the view; failures (EEXIST, ENOTEMPTY, ...) are part of the game. */
function randomOp(fs: WorldFs, layers: HostLayers, rng: Prng): string {
  const p = toViewPath(rng.pick(POOL));
  const q = toViewPath(rng.pick(POOL));
  const ops: Array<[string, () => void]> = [
    ['lower', () => lowerChange(layers, p, rng)],
    ['mkdir', () => fs.mkdir(p, 0o755)],
    ['create', () => fs.release(fs.create(p, 0o644))],
    ['unlink', () => fs.unlink(p)],
    ['rmdir', () => fs.rmdir(p)],
    ['rename', () => fs.rename(p, q)],
    ['symlink', () => fs.symlink('x', p)],
    ['chmod', () => fs.chmod(p, 0o700)],
    ['open-write', () => fs.release(fs.open(p, 1))],
    ['setxattr', () => fs.setxattr(p, 'user.t', Buffer.from('v'), 0)],
  ];
  const [name, run] = ops[rng.int(ops.length)]!;
  try {
    run();
    return `${name} ${p} ${q}: ok`;
  } catch (e) {
    if (!isFsError(e)) throw e;
    return `${name} ${p} ${q}: ${e.code}`;
  }
}

describe.each(FORMATS)('the top memo (whiteout=%s)', (whiteout) => {
  it('answers every path as the layers read afresh do, after each of many random operations', () => {
    for (const seed of [1, 2, 3, 4]) {
      const dir = join(base, `${whiteout}-${seed}`);
      for (const d of ['low', 'up', 'work', 'mnt']) mkdirSync(join(dir, d), { recursive: true });
      lowerTree(join(dir, 'low'));
      // udba=none: nothing changes behind the view's back but what the test reports, so nothing is
      // forgotten by time (the memo lives as long as with a watch on the top layer).
      const opts = parseArgs(['-o', `lowerdir=${dir}/low,upperdir=${dir}/up,workdir=${dir}/work,whiteout=${whiteout},notify=none,udba=none`, join(dir, 'mnt')]);
      const { fs, layers } = setup(opts);
      const format = layers.format;
      const fresh = new HostLayers(layers.roots, format);
      const rng = new Prng(seed);
      const log: string[] = [];
      for (let i = 0; i < 150; i++) {
        // Read through the memo first (so it remembers), then change something, then compare.
        // Half the time the top layer's directories are listed whole first (missing ones too),
        // so that absent names are answered by remembered listings (TopMemo.setListing).
        if (rng.chance(0.5)) for (const p of ['', ...POOL]) listTop(layers, p.slice(1));
        for (const p of POOL) seen(p, layers, format);
        log.push(randomOp(fs, layers, rng));
        for (const p of POOL) {
          expect(seen(p, layers, format), `${p} after:\n${log.join('\n')}`).toEqual(seen(p, fresh, format));
        }
      }
    }
  });
});

describe('the top memo', () => {
  it('keeps nothing past one request (one turn of the event loop) when the top layer is not watched and timeout=0', async () => {
    const dir = join(base, 'unwatched');
    for (const d of ['low', 'up/d', 'work', 'mnt']) mkdirSync(join(dir, d), { recursive: true });
    const opts = parseArgs(['-o', `lowerdir=${dir}/low,upperdir=${dir}/up,workdir=${dir}/work,notify=none,timeout=0`, join(dir, 'mnt')]);
    const { layers } = setup(opts);
    expect(seen('/d/x', layers, layers.format)).toEqual({ absent: null });
    writeFileSync(join(dir, 'up/d/x'), 'x'); // another writer of the layer, which nothing reports
    expect(seen('/d/x', layers, layers.format)).toEqual({ absent: null }); // the same request: remembered
    await new Promise((res) => setImmediate(res));
    expect(seen('/d/x', layers, layers.format)).toMatchObject({ kind: 'file' });
  });

  it('forgets what the top layer\'s watch reports changed behind the daemon\'s back', () => {
    const dir = join(base, 'watch');
    for (const d of ['low', 'up/d', 'work', 'mnt']) mkdirSync(join(dir, d), { recursive: true });
    const opts = parseArgs(['-o', `lowerdir=${dir}/low,upperdir=${dir}/up,workdir=${dir}/work,notify=none,udba=none`, join(dir, 'mnt')]);
    const { layers } = setup(opts);
    expect(seen('/d/x', layers, layers.format)).toEqual({ absent: null });
    writeFileSync(join(dir, 'up/d/x'), 'x'); // behind its back: remembered as absent still
    expect(seen('/d/x', layers, layers.format)).toEqual({ absent: null });
    layers.topChanged('d/x', true); // what LayerNotifier does with the top layer's events
    expect(seen('/d/x', layers, layers.format)).toMatchObject({ kind: 'file' });
  });
});
