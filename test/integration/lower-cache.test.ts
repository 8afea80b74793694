// HostLayers with a lower-layer cache over real temporary directories (no mount): the top layer is
// read afresh on every question (with a top memo: until a write to it is reported), lower layers
// are remembered for one generation, a generation ends by time or when the hidden mounts change,
// and cached listings cannot be changed by callers.
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TimedLowerCache } from '../../src/core/lower-cache.js';
import { TopMemo } from '../../src/core/top-memo.js';
import { toViewPath } from '../../src/core/paths.js';
import { resolve } from '../../src/core/resolve.js';
import { WHITEOUT_FORMATS } from '../../src/core/whiteout/index.js';
import { HostLayers } from '../../src/host/layer-probe.js';

const format = WHITEOUT_FORMATS.get('aufs')!;
let dir: string;
let t: number;
let cache: TimedLowerCache;
let layers: HostLayers;
const top = () => join(dir, 'top');
const low = () => join(dir, 'low');

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'worldos-lower-cache-'));
  mkdirSync(join(top()), { recursive: true });
  mkdirSync(join(low(), 'd'), { recursive: true });
  writeFileSync(join(low(), 'd', 'a'), 'a');
  t = 0;
  cache = new TimedLowerCache({ ttlMs: 500, now: () => t });
  layers = new HostLayers([top(), low()], format, [], cache);
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const kind = (p: string) => {
  const r = resolve(toViewPath(p), layers, format);
  return r.kind === 'found' ? r.node.entry.kind : 'absent';
};

describe('HostLayers with a lower cache', () => {
  it('sees a change to the top layer at once', () => {
    expect(kind('/d/x')).toBe('absent');
    mkdirSync(join(top(), 'd'));
    writeFileSync(join(top(), 'd', 'x'), 'x');
    expect(kind('/d/x')).toBe('file');
    writeFileSync(join(top(), 'd', '.wh.a'), '');
    expect(kind('/d/a')).toBe('absent');
  });

  it('sees a change to a lower layer once the generation has ended, not before', () => {
    for (let i = 0; i < 3; i++) expect(kind(`/d/n${i}`)).toBe('absent');
    writeFileSync(join(low(), 'd', 'n0'), 'new');
    expect(kind('/d/n0')).toBe('absent');
    t = 500;
    expect(kind('/d/n0')).toBe('file');
  });

  it('answers a lookup with one lstat and never lists the parent directory for it', () => {
    for (let i = 0; i < 50; i++) expect(kind(`/d/n${i}`)).toBe('absent');
    expect(kind('/d/a')).toBe('file');
    expect(cache.record(1, 'd')!.entries).toBeUndefined();
  });

  it('answers lookups below a lower directory from the listing a readdir made, within the generation', () => {
    expect(layers.list(1, 'd').map((e) => e.name)).toEqual(['a']);
    writeFileSync(join(low(), 'd', 'b'), 'b'); // after the listing: not seen within the generation
    expect(kind('/d/b')).toBe('absent');
    t = 500;
    expect(kind('/d/b')).toBe('file');
  });

  it('follows no symlink swapped in for a lower directory the resolver saw (ELOOP, never the outside file)', () => {
    const outside = join(dir, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'a'), 'secret');
    expect(kind('/d/a')).toBe('file'); // the resolver remembers d as a directory for the generation
    renameSync(join(low(), 'd'), join(dir, 'd.real'));
    symlinkSync(outside, join(low(), 'd'));
    expect(() => layers.entry(1, 'd/a')).toThrow(expect.objectContaining({ code: 'ELOOP' }));
    expect(() => layers.isOpaque(1, 'd/x')).toThrow(expect.objectContaining({ code: 'ELOOP' }));
  });

  it('ends the generation when the hidden mounts change', () => {
    expect(layers.list(1, 'd').map((e) => e.name)).toEqual(['a']);
    writeFileSync(join(low(), 'd', 'z'), 'z');
    layers.setHiddenMounts([join(low(), 'd', 'a')]);
    expect(layers.list(1, 'd').map((e) => e.name)).toEqual(['z']);
    expect(kind('/d/a')).toBe('absent');
  });

  it('hands out cached listings that callers cannot change', () => {
    const listing = layers.list(1, 'd');
    expect(() => (listing as { name: string }[]).push({ name: 'x' })).toThrow(TypeError);
    expect(layers.list(1, 'd')).toBe(listing);
  });

  it('remembers the top layer, with a top memo, until a write to it is reported (topChanged)', () => {
    const memo = new TopMemo();
    layers = new HostLayers([top(), low()], format, [], cache, memo);
    expect(kind('/t')).toBe('absent');
    writeFileSync(join(top(), 't'), 't'); // not reported: still remembered as absent...
    expect(kind('/t')).toBe('absent');
    layers.topChanged('t', true); // ...which is why every writer reports what it wrote
    expect(kind('/t')).toBe('file');
    writeFileSync(join(top(), '.wh.t'), '');
    layers.topChanged('.wh.t', true);
    expect(kind('/t')).toBe('file'); // an entry beside its own marker still shows (aufs)
    rmSync(join(top(), 't'));
    layers.topChanged('t', true);
    expect(kind('/t')).toBe('absent');
  });

  it('reads the top layer afresh at every question without a top memo', () => {
    expect(kind('/t')).toBe('absent');
    writeFileSync(join(top(), 't'), 't');
    expect(kind('/t')).toBe('file');
  });

  it('never caches the top layer, even when asked through list', () => {
    mkdirSync(join(top(), 'd'));
    expect(layers.list(0, 'd')).toEqual([]);
    writeFileSync(join(top(), 'd', 'x'), 'x');
    expect(layers.list(0, 'd').map((e) => e.name)).toEqual(['x']);
  });
});
