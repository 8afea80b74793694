// detached(): a long-lived map key must not keep the string it was sliced from alive.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { detached } from '../../../../src/core/detached-string.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Heap bytes still used once `keep` (made from an 8 MiB string dropped meanwhile) is all that is held. */
function heldBy(keep: (s: string) => string): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = (() => {
    const parent = `${'x'.repeat(8 << 20)}/a-name-longer-than-13-chars`;
    return keep(parent.slice(parent.lastIndexOf('/') + 1));
  })();
  gc();
  const used = process.memoryUsage().heapUsed - before;
  expect(kept).toBe('a-name-longer-than-13-chars');
  return used;
}

describe('detached', () => {
  it('keeps the characters of any string, lone surrogates and non-Latin-1 ones included', () => {
    for (const s of ['short', 'a-name-longer-than-13-chars', 'é'.repeat(20), '\ud800 lone surrogate \udfff', '名前'.repeat(10), '']) {
      expect(detached(s)).toBe(s);
    }
  });

  it('holds nothing of the string a name was sliced from, where the slice itself would hold all of it', () => {
    expect(heldBy((s) => s)).toBeGreaterThan(4 << 20);
    expect(heldBy(detached)).toBeLessThan(1 << 20);
  });
});
