// Inode-number decisions (src/core/inode-number.ts): the origin record's encoding, the xino-style
// composition that keeps filesystems apart, and when a copy may report (or record) its origin's number.
import { describe, expect, it } from 'vitest';
import {
  composeIno, coveredBy, decodeOrigin, encodeOrigin, INO_BITS, layerKey, MAX_FS_INDEX, mayRecord, originHolds,
  overflowIno, placeRecord, type OriginRecord, type OriginSighting,
} from '../../../../src/core/inode-number.js';

const REC: OriginRecord = { layer: layerKey(1234n, 1700000000123456789n), rel: 'd/file name\n2', ino: 98765n, btimeNs: 1700000001000000000n };
const SAME: OriginSighting = { ino: REC.ino, btimeNs: REC.btimeNs, nlink: 1, isDir: false };
const yes = () => true;

describe('the origin record', () => {
  it('round-trips, paths with spaces and newlines included', () => {
    expect(decodeOrigin(encodeOrigin(REC))).toEqual({ ...REC, byName: false });
  });

  it('stores a deep place by its last name only, placed back below the directory\'s origin', () => {
    const deep: OriginRecord = { ...REC, rel: 'a/'.repeat(3000) + 'leaf' };
    const text = encodeOrigin(deep, true);
    expect(text.length).toBeLessThan(200);
    const stored = decodeOrigin(text)!;
    expect(stored).toEqual({ ...REC, rel: 'leaf', byName: true });
    expect(placeRecord(stored, () => 'a/'.repeat(2999) + 'a')).toEqual(deep);
    expect(placeRecord(stored, () => '')).toEqual({ ...REC, rel: 'leaf' });
  });

  it('places a full record where it says, without asking for the directory\'s origin', () => {
    const stored = decodeOrigin(encodeOrigin(REC))!;
    expect(placeRecord(stored, () => { throw new Error('not asked'); })).toEqual(REC);
  });

  it.for([
    ['not json'], ['[]'], ['["o1n","1.2","3","4","a/b"]'], ['["o1n","1.2","3","4",""]'], ['["o2","1.2","3","4","a"]'], ['["o1",1,"3","4","a"]'], ['["o1","1.2","-3","4","a"]'],
    ['["o1","1.2","3","4"]'], ['{"layer":"x"}'], ['["o1","1.2","3","4.5","a"]'],
  ])('ignores a malformed or foreign value: %s', ([text]) => {
    expect(decodeOrigin(text!)).toBeUndefined();
  });
});

describe('composeIno (xino)', () => {
  it('leaves numbers of the top layer\'s filesystem (index 0) unchanged', () => {
    expect(composeIno(0, 12345n)).toBe(12345);
  });

  it('keeps one host number on two filesystems apart', () => {
    expect(composeIno(1, 12345n)).not.toBe(composeIno(0, 12345n));
    expect(composeIno(1, 12345n)).toBe(2 ** 40 + 12345);
  });

  it('stays an exact JS number at the largest index and inode', () => {
    const n = composeIno(MAX_FS_INDEX, (1n << INO_BITS) - 1n)!;
    expect(Number.isSafeInteger(n)).toBe(true);
    expect(Number.isSafeInteger(overflowIno(1_000_000))).toBe(true);
  });

  it('refuses inodes that do not fit (the caller hands out an overflow number) and bad indexes', () => {
    expect(composeIno(0, 1n << INO_BITS)).toBeUndefined();
    expect(composeIno(MAX_FS_INDEX + 1, 1n)).toBeUndefined();
    expect(composeIno(-1, 1n)).toBeUndefined();
  });

  it('never gives an overflow number that a composed one could have', () => {
    expect(overflowIno(1)).toBeGreaterThan(composeIno(MAX_FS_INDEX, (1n << INO_BITS) - 1n)!);
  });
});

describe('originHolds', () => {
  it('holds for the recorded inode, below the copy, with one link, when the view hides it', () => {
    expect(originHolds(REC, 2, 0, SAME, yes)).toBe(true);
  });

  it('does not hold when the number was reused (another birth time): the deleted-origin case', () => {
    expect(originHolds(REC, 2, 0, { ...SAME, btimeNs: REC.btimeNs + 4_000_000n }, yes)).toBe(false);
  });

  it('does not hold when the place holds another inode, or nothing', () => {
    expect(originHolds(REC, 2, 0, { ...SAME, ino: REC.ino + 1n }, yes)).toBe(false);
    expect(originHolds(REC, 2, 0, undefined, yes)).toBe(false);
  });

  it('does not hold for a non-directory with more than one link (overlayfs\'s nlink rule)', () => {
    expect(originHolds(REC, 2, 0, { ...SAME, nlink: 2 }, yes)).toBe(false);
    expect(originHolds(REC, 2, 0, { ...SAME, nlink: 3, isDir: true }, yes)).toBe(true);
  });

  it('does not hold when the origin\'s layer is not below the copy, or not in the stack', () => {
    expect(originHolds(REC, 0, 0, SAME, yes)).toBe(false);
    expect(originHolds(REC, 1, 3, SAME, yes)).toBe(false);
    expect(originHolds(REC, undefined, 0, SAME, yes)).toBe(false);
  });

  it('does not hold without a birth time, and asks the view only when everything else holds', () => {
    expect(originHolds({ ...REC, btimeNs: 0n }, 2, 0, { ...SAME, btimeNs: 0n }, yes)).toBe(false);
    let asked = 0;
    originHolds(REC, 2, 0, { ...SAME, nlink: 2 }, () => (asked++, true));
    expect(asked).toBe(0);
    expect(originHolds(REC, 2, 0, SAME, () => false)).toBe(false);
  });
});

describe('coveredBy', () => {
  it('accepts the copy itself at the origin\'s place (by host identity: a hard link of the copy counts)', () => {
    expect(coveredBy({ kind: 'object', layer: 0, id: '5:7' }, 0, '5:7')).toBe(true);
  });

  it('accepts a whiteout in the copy\'s own layer (the copy was renamed away)', () => {
    expect(coveredBy({ kind: 'whiteout', layer: 1 }, 1, '5:7')).toBe(true);
  });

  it('refuses another object at the place, even in the same layer: only one claimant per place', () => {
    expect(coveredBy({ kind: 'object', layer: 0, id: '5:7' }, 0, '5:8')).toBe(false);
    expect(coveredBy({ kind: 'object', layer: 0, id: '5:7' }, 1, '5:7')).toBe(false);
  });

  it('refuses a whiteout in another layer (a higher world hid the place: two renamed copies could both pass)', () => {
    expect(coveredBy({ kind: 'whiteout', layer: 0 }, 1, '5:7')).toBe(false);
    expect(coveredBy({ kind: 'other' }, 0, '5:7')).toBe(false);
  });
});

describe('mayRecord', () => {
  it('records when the copy was born in a later tick than the origin', () => {
    expect(mayRecord(100n, 101n)).toBe(true);
  });

  it('does not record in the origin\'s own tick (a reuse could then share its birth time) or without one', () => {
    expect(mayRecord(100n, 100n)).toBe(false);
    expect(mayRecord(0n, 101n)).toBe(false);
  });
});
