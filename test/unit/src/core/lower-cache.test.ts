// The lower-layer cache (src/core/lower-cache.ts) and the resolver's use of it: generations end by
// time, size and clear(); the top layer is always read afresh; a lower change shows once the
// generation it was made in has ended; remembered resolutions equal scanned ones on random stacks.
import { describe, expect, it } from 'vitest';
import { cacheBudget, lowerCacheFor, NO_LOWER_CACHE, TimedLowerCache } from '../../../../src/core/lower-cache.js';
import { toViewPath } from '../../../../src/core/paths.js';
import { resolve, type ChildLookup, type LayerProbe } from '../../../../src/core/resolve.js';
import { isFsError } from '../../../../src/core/errors.js';
import { WHITEOUT_FORMATS, type WhiteoutFormat } from '../../../../src/core/whiteout/index.js';
import { buildStack, NotExpressible, withLowerMemo, type LayerSpec, type MemoryLayers } from '../../../helpers/memory-layers.js';

/** A clock the test moves by hand. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => { t += ms; } };
}


/** A comparable summary of a resolution (or its error code). */
function summary(probe: LayerProbe, format: WhiteoutFormat, path: string): unknown {
  let r: ChildLookup;
  try {
    r = resolve(toViewPath(path), probe, format);
  } catch (e) {
    if (isFsError(e)) return e.code;
    throw e;
  }
  if (r.kind === 'absent') return { absent: r.parent.path, whiteoutAt: r.whiteoutAt, parent: r.parent.branches };
  return { path: r.node.path, kind: r.node.entry.kind, branches: r.node.branches };
}

describe('TimedLowerCache', () => {
  it('keeps a record for the life of its generation and starts afresh after it', () => {
    const c = clock();
    const cache = new TimedLowerCache({ ttlMs: 500, now: c.now });
    const r = cache.record(1, 'd');
    c.advance(499);
    expect(cache.record(1, 'd')).toBe(r);
    c.advance(1);
    expect(cache.record(1, 'd')).not.toBe(r);
  });

  it('ends a generation as a whole: a record made late in it dies with it', () => {
    const c = clock();
    const cache = new TimedLowerCache({ ttlMs: 500, now: c.now });
    cache.record(1, 'a');
    c.advance(400);
    const late = cache.record(2, 'b');
    c.advance(100);
    expect(cache.record(2, 'b')).not.toBe(late);
  });

  it('ends the generation when the listed names and remembered lookups pass the bound', () => {
    const cache = new TimedLowerCache({ ttlMs: Infinity, maxItems: 10, now: clock().now });
    const r = cache.record(1, 'big');
    cache.listed(r, 8);
    expect(cache.record(1, 'big')).toBe(r);
    cache.listed(r, 3);
    expect(cache.record(1, 'big')).not.toBe(r);
  });

  it('counts nothing for a record of a generation that has ended', () => {
    const cache = new TimedLowerCache({ ttlMs: Infinity, maxItems: 10, now: clock().now });
    const old = cache.record(1, 'x');
    cache.clear();
    const r = cache.record(1, 'y');
    cache.listed(old, 100);
    expect(cache.record(1, 'y')).toBe(r);
  });

  it('forgets everything on clear, the memo included', () => {
    const cache = new TimedLowerCache({ ttlMs: Infinity, now: clock().now });
    const r = cache.record(3, '');
    const m = cache.memo();
    cache.clear();
    expect(cache.record(3, '')).not.toBe(r);
    expect(cache.memo()).not.toBe(m);
  });

  it('with udba=none never ends a generation by time', () => {
    const c = clock();
    const cache = lowerCacheFor('none', 3600, { now: c.now });
    const r = cache.record(1, 'd');
    c.advance(1e12);
    expect(cache.record(1, 'd')).toBe(r);
  });
});

describe('the cache budget of a mount', () => {
  it('gives the kernel and the daemon half of timeout= each with udba=reval, so changes show within it', () => {
    expect(cacheBudget('reval', 1)).toEqual({ kernelSeconds: 0.5, daemonMs: 500 });
    const b = cacheBudget('reval', 7);
    expect(b.kernelSeconds + b.daemonMs / 1000).toBe(7);
  });

  it('lets the daemon keep lower layers for good with udba=none', () => {
    expect(cacheBudget('none', 3600).daemonMs).toBe(Infinity);
  });

  it('caches nothing in the daemon with timeout=0 (worlds: a merge must show at once)', () => {
    expect(cacheBudget('reval', 0)).toEqual({ kernelSeconds: 0, daemonMs: 0 });
    expect(cacheBudget('none', 0).daemonMs).toBe(0);
    expect(lowerCacheFor('reval', 0)).toBe(NO_LOWER_CACHE);
    expect(NO_LOWER_CACHE.record(1, '')).toBeUndefined();
    expect(NO_LOWER_CACHE.memo()).toBeUndefined();
  });

  it('with timeout=0 and a turn, keeps what one turn of the event loop read, and nothing longer', () => {
    let turn = 7;
    const cache = lowerCacheFor('reval', 0, { now: clock().now, turn: () => turn });
    const r = cache.record(1, 'd');
    expect(r).toBeDefined();
    expect(cache.record(1, 'd')).toBe(r);
    expect(cache.memo()).toBe(cache.memo());
    const memo = cache.memo();
    turn++;
    expect(cache.record(1, 'd')).not.toBe(r);
    expect(cache.memo()).not.toBe(memo);
  });

  it('keeps nothing at all once limited to a lifetime of 0 without a turn', () => {
    const cache = new TimedLowerCache({ ttlMs: 500, now: clock().now });
    cache.limit(0);
    expect(cache.record(1, 'd')).toBeUndefined();
    expect(cache.memo()).toBeUndefined();
  });
});

const FORMAT_IDS = [...WHITEOUT_FORMATS.keys()];

describe.each(FORMAT_IDS)('resolving through the memo with %s whiteouts', (id) => {
  const format = WHITEOUT_FORMATS.get(id)!;

  it('shows changes to the top layer at once', () => {
    const stack = buildStack(format, [{ d: 'dir' }, { 'd/a': 'file', 'd/b': 'file', e: 'dir', 'e/x': 'file' }]);
    const probe = withLowerMemo(stack, new TimedLowerCache({ ttlMs: Infinity, now: clock().now }));
    expect(summary(probe, format, '/d/a')).toMatchObject({ kind: 'file' });
    stack.apply(0, format.whiteout('d', 'a'));
    expect(summary(probe, format, '/d/a')).toMatchObject({ whiteoutAt: 0 });
    expect(summary(probe, format, '/e/x')).toMatchObject({ kind: 'file', branches: [{ layer: 1, rel: 'e/x' }] });
    stack.apply(0, [{ op: 'create-marker', rel: 'e/keep' }]); // e now exists in the top layer
    stack.apply(0, format.makeOpaque('e'));
    expect(summary(probe, format, '/e/x')).toMatchObject({ absent: '/e' });
    expect(summary(probe, format, '/e/keep')).toMatchObject({ kind: 'file' });
  });

  it('shows a change to a lower layer once the generation it was made in has ended', () => {
    const c = clock();
    const stack = buildStack(format, [{}, { d: 'dir', 'd/a': 'file' }]);
    const probe = withLowerMemo(stack, new TimedLowerCache({ ttlMs: 500, now: c.now }));
    expect(summary(probe, format, '/d/new')).toMatchObject({ absent: '/d' });
    stack.layer(1).apply({ op: 'create-marker', rel: 'd/new' });
    c.advance(500);
    expect(summary(probe, format, '/d/new')).toMatchObject({ kind: 'file', branches: [{ layer: 1, rel: 'd/new' }] });
  });

  it('gives what a scan of every layer gives, on random stacks changed in the top layer between lookups', () => {
    const rand = seeded(42 + id.length);
    let compared = 0;
    for (let trial = 0; trial < 150; trial++) {
      const specs = randomStack(rand);
      let plain: MemoryLayers;
      let twin: MemoryLayers;
      try {
        plain = buildStack(format, specs);
        twin = buildStack(format, specs);
      } catch (e) {
        if (e instanceof NotExpressible || e instanceof Error) continue; // a spec this format (or tree) cannot hold
        throw e;
      }
      const probe = withLowerMemo(twin, new TimedLowerCache({ ttlMs: Infinity, now: clock().now }));
      for (let round = 0; round < 4; round++) {
        for (const p of PATHS) {
          expect(summary(probe, format, p), `${JSON.stringify(specs)} ${p} round ${round}`).toEqual(summary(plain, format, p));
          compared++;
        }
        const ops = randomTopOps(rand, format);
        try {
          plain.apply(0, ops);
          twin.apply(0, ops);
        } catch {
          twin = buildStack(format, specs); // op refused by the helper: both start again from the spec
          plain = buildStack(format, specs);
          const fresh = withLowerMemo(twin, new TimedLowerCache({ ttlMs: Infinity, now: clock().now }));
          Object.assign(probe, fresh);
        }
      }
    }
    expect(compared).toBeGreaterThan(1000);
  });
});

const NAMES = ['a', 'b', 'c'];
const PATHS = ['/', ...NAMES.map((n) => '/' + n), ...NAMES.flatMap((n) => NAMES.map((m) => `/${n}/${m}`)),
  ...NAMES.map((n) => `/${n}/a/b`), '/a/b/c/a'];

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function pick<T>(rand: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rand() * xs.length)]!;
}

function randomPath(rand: () => number, depth = 1 + Math.floor(rand() * 3)): string {
  return Array.from({ length: depth }, () => pick(rand, NAMES)).join('/');
}

function randomStack(rand: () => number): LayerSpec[] {
  const layers = 2 + Math.floor(rand() * 3);
  return Array.from({ length: layers }, () => {
    const spec: Record<string, string> = {};
    const n = Math.floor(rand() * 6);
    for (let i = 0; i < n; i++) {
      const kind = pick(rand, ['file', 'dir', 'dir', 'whiteout', 'dir opaque', 'symlink=x',
        `dir redirect=/${randomPath(rand)}`, `dir redirect=${pick(rand, NAMES)}`]);
      spec[randomPath(rand)] = kind;
    }
    return spec;
  });
}

function randomTopOps(rand: () => number, format: WhiteoutFormat) {
  const dir = rand() < 0.3 ? '' : randomPath(rand, 1);
  switch (Math.floor(rand() * 4)) {
    case 0: return format.whiteout(dir, pick(rand, NAMES));
    case 1: return [{ op: 'create-marker' as const, rel: (dir ? dir + '/' : '') + pick(rand, NAMES) }];
    case 2: return dir === '' ? [] : format.makeOpaque(dir);
    default: return dir === '' ? [] : format.setRedirect(dir, '/' + randomPath(rand));
  }
}
