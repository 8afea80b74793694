// InotifyLayerWatch (src/host/layer-watch.ts) over a real temporary layer, no mount: an attribute
// change of a watched directory (which libuv reports as a rename) is reported as a change of that
// directory and keeps the watches below it; a directory replaced at the same name is walked again.
// Events are asynchronous: each step ends with a fence, reported once every earlier event was.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
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
  const seen = { events: [] as LayerEvent[], watching: [] as string[], gone: [] as string[] };
  const fences = new Map<string, () => void>();
  const sink: LayerWatchSink = {
    changed: (events) => { seen.events.push(...events); },
    watching: (_layer, rel) => { seen.watching.push(rel); },
    gone: (_layer, rel) => { seen.gone.push(rel); },
    degraded: (reason) => { throw new Error(`degraded: ${reason}`); },
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
    // Its watches stay, and nothing below it is walked again. (Its own watch reports it by its own
    // name, as 'd/d': no watch there, nothing walked.)
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
});
