// Hashed markers (src/core/whiteout/hashed-marker.ts): whiteouts of names too long for aufs's
// `.wh.<name>`, and how a listing finds what they hide.
import { describe, expect, it } from 'vitest';
import { fitsWithPrefix, hashedMarker, hiddenByHashed, isHashedMarker } from '../../../../../src/core/whiteout/hashed-marker.js';
import { whiteoutFormat } from '../../../../../src/core/whiteout/index.js';

const aufs = whiteoutFormat('aufs');
const bytes = (s: string) => Buffer.byteLength(s);

describe('fitsWithPrefix', () => {
  it.each([
    ['a 251-byte name fits after .wh.', 'a'.repeat(251), true],
    ['a 252-byte name does not', 'a'.repeat(252), false],
    ['a 255-byte name does not', 'a'.repeat(255), false],
    ['a 250-byte name of 2-byte characters fits', 'é'.repeat(125), true],
    ['a 252-byte name of 2-byte characters does not', 'é'.repeat(126), false],
    ['a 251-byte name of 4-byte and 3-byte characters fits', '😀'.repeat(62) + '€', true],
    ['a 252-byte name of 4-byte characters does not', '😀'.repeat(63), false],
  ])('%s', (_title, name, fits) => {
    expect(fitsWithPrefix('.wh.', name)).toBe(fits);
    expect(fitsWithPrefix('.wh.', name)).toBe(bytes('.wh.' + name) <= 255);
  });
});

describe('hashedMarker', () => {
  it('is a name a directory can hold, the same for the same name and different for different ones', () => {
    const names = ['a'.repeat(255), 'a'.repeat(254) + 'b', 'é'.repeat(127), 'x'];
    const markers = names.map(hashedMarker);
    for (const m of markers) expect(bytes(m)).toBeLessThanOrEqual(255);
    expect(new Set(markers).size).toBe(names.length);
    expect(names.map(hashedMarker)).toEqual(markers);
  });

  it('is recognised as a hashed marker, and internal (never shown) in the aufs format', () => {
    const m = hashedMarker('a'.repeat(255));
    expect(isHashedMarker(m)).toBe(true);
    expect(aufs.isHashedMarker(m)).toBe(true);
    expect(aufs.isInternal(m)).toBe(true);
    expect(aufs.hiddenByMarker(m)).toBeUndefined();
  });

  it.each(['.wh.x', '.wh..wh..opq', '.wh..wh..hwh.', '.wh..wh..hwh.' + 'g'.repeat(64), '.wh..wh..hwh.' + '0'.repeat(63), 'x'.repeat(77)])(
    'does not take %s for a hashed marker', (name) => {
      expect(isHashedMarker(name)).toBe(false);
    });
});

describe('the aufs format with long names', () => {
  it('marks a name of up to 251 bytes with .wh.<name>, a longer one with its hashed marker', () => {
    expect(aufs.markerFor('a'.repeat(251))).toBe('.wh.' + 'a'.repeat(251));
    expect(aufs.markerFor('a'.repeat(252))).toBe(hashedMarker('a'.repeat(252)));
    expect(aufs.whiteout('d', 'a'.repeat(255))).toEqual([{ op: 'create-marker', rel: 'd/' + hashedMarker('a'.repeat(255)) }]);
    expect(aufs.unwhiteout('', 'a'.repeat(255))).toEqual([{ op: 'remove', rel: hashedMarker('a'.repeat(255)) }]);
  });

  it('does not reserve a long name (only names starting with .wh. are)', () => {
    expect(aufs.isReservedName('a'.repeat(255))).toBe(false);
    expect(aufs.isReservedName('.wh.' + 'a'.repeat(251))).toBe(true);
  });
});

describe('hiddenByHashed', () => {
  const long = ['a'.repeat(255), 'b'.repeat(253), 'c'.repeat(252)];
  const markerFor = (n: string) => aufs.markerFor(n);

  it('finds the names whose markers are present, and nothing when there are none', () => {
    const markers = new Set([hashedMarker(long[0]!), hashedMarker(long[2]!)]);
    expect(hiddenByHashed(markers, [...long, 'short'], markerFor)).toEqual([long[0], long[2]]);
    expect(hiddenByHashed(new Set(), long, markerFor)).toEqual([]);
  });

  it('never takes a short name for one a hashed marker hides', () => {
    expect(hiddenByHashed(new Set([hashedMarker('short')]), ['short'], markerFor)).toEqual([]);
  });
});
