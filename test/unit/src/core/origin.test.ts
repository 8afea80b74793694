// Where the lower layers know a top-layer object (src/core/origin.ts): redirects followed, absolute
// ones winning, relative ones renaming one level; the same in any layer of the stack (originIn).
import { describe, expect, it } from 'vitest';
import { originIn, originOf } from '../../../../src/core/origin.js';
import type { ViewPath } from '../../../../src/core/paths.js';
import { WHITEOUT_FORMATS } from '../../../../src/core/whiteout/index.js';
import { buildStack, type LayerSpec } from '../../../helpers/memory-layers.js';

const ROWS: { title: string; layers: LayerSpec[]; layer: number; rel: string; expect: string }[] = [
  { title: 'a directory without redirects is known at its own path', layers: [{ 'a/b/c': 'dir' }, {}], layer: 0, rel: 'a/b/c', expect: 'a/b/c' },
  { title: 'the root is the root', layers: [{}, {}], layer: 0, rel: '', expect: '' },
  { title: 'an absolute redirect on an ancestor moves everything below it', layers: [{ n: 'dir redirect=/o/p', 'n/x/y': 'dir' }, {}], layer: 0, rel: 'n/x/y', expect: 'o/p/x/y' },
  { title: 'a relative redirect renames one level', layers: [{ a: 'dir', 'a/n': 'dir redirect=old', 'a/n/f': 'dir' }, {}], layer: 0, rel: 'a/n/f', expect: 'a/old/f' },
  { title: 'the object\'s own absolute redirect wins over its parents\'', layers: [{ a: 'dir redirect=/z', 'a/n': 'dir redirect=/q' }, {}], layer: 0, rel: 'a/n', expect: 'q' },
  { title: 'a lower layer\'s redirects count when asked about that layer', layers: [{ n: 'dir' }, { n: 'dir redirect=/o', 'n/d': 'dir' }, {}], layer: 1, rel: 'n/d', expect: 'o/d' },
  { title: 'a file\'s own name is kept (files have no redirect)', layers: [{ d: 'dir redirect=/e', 'd/f': 'file' }, {}], layer: 0, rel: 'd/f', expect: 'e/f' },
];

describe.each([...WHITEOUT_FORMATS.keys()])('originIn with %s markers', (id) => {
  it.each(ROWS)('$title', (row) => {
    const probe = buildStack(WHITEOUT_FORMATS.get(id)!, row.layers);
    expect(originIn(probe, row.layer, row.rel)).toBe(row.expect);
    if (row.layer === 0) expect(originOf((row.rel === '' ? '/' : '/' + row.rel) as ViewPath, probe)).toBe('/' + row.expect);
  });
});
