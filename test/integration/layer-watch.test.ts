// InotifyLayerWatch (src/host/layer-watch.ts) over a real temporary layer, no mount: an attribute
// change of a watched directory is reported as a change of that directory and keeps the watches
// below it; a directory replaced at the same name is walked again; a layer gets only the events
// it asks for; a lost event queue is walked again and reported. Events are asynchronous: each step
// ends with a fence, reported once every earlier event was.
import { chmodSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LayerEvent } from '../../src/core/layer-change.js';
import { InotifyLayerWatch, type LayerWatchSink } from '../../src/host/layer-watch.js';

let base: string;
let watch: InotifyLayerWatch | undefined;
beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'worldos-layer-watch-'));
});
afterEach(() => {
  watch?.close();
  watch = undefined;
  rmSync(base, { recursive: true, force: true });
});

/** A sink that keeps what it is told, and resolves a fence's promise when it passes. */
function recorder() {
  const seen = { events: [] as LayerEvent[], watching: [] as string[], gone: [] as string[], lost: 0 };
  const fences = new Map<string, () => void>();
  const sink: LayerWatchSink = {
    changed: (events) => { seen.events.push(...events); },
    watching: (_layer, rel) => { seen.watching.push(rel); },
    gone: (_layer, rel) => { seen.gone.push(rel); },
    degraded: (reason) => { throw new Error(`degraded: ${reason}`); },
    lost: () => { seen.lost++; },
    fenced: (path) => fences.get(path)?.(),
  };
  let n = 0;
  /** Everything that happened before this call has been reported once it resolves (bounded). */
  const settle = (fenceDir: string) => new Promise<void>((res, rej) => {
    const path = join(fenceDir, `f${n++}`);
    const t = setTimeout(() => rej(new Error(`fence ${path} not reported`)), 10_000);
    fences.set(path, () => { clearTimeout(t); res(); });
    writeFileSync(path, '');
  });
  const clear = () => { seen.events.length = 0; seen.watching.length = 0; seen.gone.length = 0; };
  return { seen, sink, settle, clear };
}

describe('InotifyLayerWatch', () => {
  it('walks a layer, at the start and into a new directory, without moving any directory\'s atime', async () => {
    const layer = join(base, 'layer');
    mkdirSync(join(layer, 'd/e'), { recursive: true });
    const old = 1_000_000_000; // 2001: relatime would move an atime this old at the first read
    for (const rel of ['', 'd', 'd/e']) utimesSync(join(layer, rel), old, old);
    const fence = join(base, 'fence');
    const r = recorder();
    watch = new InotifyLayerWatch([{ layer: 1, root: layer }], r.sink, { fence });
    expect(r.seen.watching).toEqual(expect.arrayContaining(['', 'd', join('d', 'e')]));
    mkdirSync(join(layer, 'n'));
    writeFileSync(join(layer, 'n/f'), 'f');
    utimesSync(join(layer, 'n'), old, old);
    await r.settle(fence);
    expect(r.seen.watching).toContain('n');
    for (const rel of ['d', 'd/e', 'n']) expect(statSync(join(layer, rel)).atimeMs, rel).toBe(old * 1000);
  });

  it('reports an attribute change of a watched directory as a change of it, keeping the watches below it', async () => {
    const layer = join(base, 'layer');
    mkdirSync(join(layer, 'd/e'), { recursive: true });
    const fence = join(base, 'fence');
    const r = recorder();
    watch = new InotifyLayerWatch([{ layer: 1, root: layer }], r.sink, { fence });
    expect(watch.fullyWatched(1)).toBe(true);
    r.clear();
    chmodSync(join(layer, 'd'), 0o700);
    utimesSync(join(layer, 'd'), 1, 1);
    await r.settle(fence);
    expect(r.seen.events.filter((e) => e.dir === '' && e.name === 'd')).not.toHaveLength(0);
    expect(r.seen.events.every((e) => !e.contentOnly || e.name !== 'd')).toBe(true); // a directory's attributes may be markers
    // Its watches stay, and nothing below it is walked again (its own watch's report of itself is
    // left to its parent's).
    expect(r.seen.gone.filter((g) => g === 'd' || g === 'd/e')).toEqual([]);
    expect(r.seen.watching).toEqual([]);
    writeFileSync(join(layer, 'd/e/x'), 'x');
    await r.settle(fence);
    expect(r.seen.events).toContainEqual({ layer: 1, dir: 'd/e', name: 'x' }); // still watched
  });

  it('walks a directory replaced at the same name again, and watches what is in it', async () => {
    const layer = join(base, 'layer');
    mkdirSync(join(layer, 'd/e'), { recursive: true });
    const fence = join(base, 'fence');
    const r = recorder();
    watch = new InotifyLayerWatch([{ layer: 1, root: layer }], r.sink, { fence });
    rmSync(join(layer, 'd'), { recursive: true });
    mkdirSync(join(layer, 'd/f'), { recursive: true });
    await r.settle(fence);
    r.clear();
    writeFileSync(join(layer, 'd/f/y'), 'y');
    await r.settle(fence);
    expect(r.seen.events).toContainEqual({ layer: 1, dir: 'd/f', name: 'y' });
  });

  it('reports only the events a layer asks for: names, then attributes, then writes', async () => {
    const fence = join(base, 'fence');
    const roots = ['names', 'attributes', 'all'].map((events) => {
      const root = join(base, events);
      mkdirSync(root);
      writeFileSync(join(root, 'f'), 'f');
      return root;
    });
    const r = recorder();
    watch = new InotifyLayerWatch([
      { layer: 0, root: roots[0]!, events: 'names' }, { layer: 1, root: roots[1]!, events: 'attributes' }, { layer: 2, root: roots[2]! },
    ], r.sink, { fence });
    r.clear();
    for (const root of roots) {
      writeFileSync(join(root, 'f'), 'written');
      chmodSync(join(root, 'f'), 0o600);
      writeFileSync(join(root, 'new'), '');
    }
    await r.settle(fence);
    const of = (layer: number) => r.seen.events.filter((e) => e.layer === layer);
    expect(of(0)).toEqual([{ layer: 0, dir: '', name: 'new' }]);
    expect(of(1).filter((e) => e.name === 'f')).toEqual([{ layer: 1, dir: '', name: 'f', contentOnly: true }]); // the chmod
    expect(of(1)).toContainEqual({ layer: 1, dir: '', name: 'new' });
    expect(of(2).filter((e) => e.name === 'f').length).toBeGreaterThanOrEqual(2); // the write and the chmod
  });

  it('names the inode of a hard-linked file whose content changed', async () => {
    const layer = join(base, 'layer');
    mkdirSync(join(layer, 'd'), { recursive: true });
    writeFileSync(join(layer, 'd/a'), 'a');
    linkSync(join(layer, 'd/a'), join(layer, 'b'));
    const fence = join(base, 'fence');
    const r = recorder();
    watch = new InotifyLayerWatch([{ layer: 1, root: layer }], r.sink, { fence });
    writeFileSync(join(layer, 'b'), 'changed');
    await r.settle(fence);
    const e = r.seen.events.find((x) => x.name === 'b');
    expect(e?.contentOnly).toBe(true);
    expect(e?.key).toMatch(/^\d+:\d+$/);
  });

  it('when the kernel queue overflows, walks the layer again and tells the sink that changes were lost', async () => {
    const layer = join(base, 'layer');
    mkdirSync(layer);
    writeFileSync(join(layer, 'a'), '');
    writeFileSync(join(layer, 'b'), '');
    const fence = join(base, 'fence');
    const r = recorder();
    watch = new InotifyLayerWatch([{ layer: 1, root: layer }], r.sink, { fence });
    // More events than the queue holds, made before this process reads any (alternating names:
    // identical events in a row would be merged into one).
    const queue = Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
    for (let i = 0; i <= queue / 2 + 64; i++) {
      chmodSync(join(layer, 'a'), i % 2 ? 0o600 : 0o644);
      chmodSync(join(layer, 'b'), i % 2 ? 0o600 : 0o644);
    }
    mkdirSync(join(layer, 'late')); // its event is lost: only the walk after the overflow finds it
    await r.settle(fence);
    expect(r.seen.lost).toBe(1);
    expect(r.seen.watching).toContain('late');
    r.clear();
    writeFileSync(join(layer, 'late/z'), 'z');
    await r.settle(fence);
    expect(r.seen.events).toContainEqual({ layer: 1, dir: 'late', name: 'z' });
    expect(watch.fullyWatched(1)).toBe(true);
  });

  it('shares the process\'s inotify descriptor: two watches of one directory each get what they asked for, and one outlives the other', async () => {
    const layer = join(base, 'layer');
    mkdirSync(layer);
    writeFileSync(join(layer, 'f'), 'f');
    const fence = join(base, 'fence');
    const names = recorder();
    const all = recorder();
    watch = new InotifyLayerWatch([{ layer: 0, root: layer, events: 'names' }], names.sink, { fence });
    const other = new InotifyLayerWatch([{ layer: 1, root: layer }], all.sink, { fence: join(base, 'fence2') });
    try {
      writeFileSync(join(layer, 'f'), 'written');
      await all.settle(join(base, 'fence2'));
      await names.settle(fence);
      expect(all.seen.events).toContainEqual({ layer: 1, dir: '', name: 'f', contentOnly: true });
      expect(names.seen.events).toEqual([]);
    } finally {
      other.close();
    }
    writeFileSync(join(layer, 'g'), '');
    await names.settle(fence);
    expect(names.seen.events).toEqual([{ layer: 0, dir: '', name: 'g' }]);
  });
});
