// decodeTime (fs/transport/fuse-native.ts): our patched fuse-native sends times as the two uint32
// halves of signed nanoseconds since the epoch; UTIME_NOW / UTIME_OMIT are the high words
// 0xFFFFFFFF / 0xFFFFFFFE with a zero low word. Importing the transport must not load fuse-native
// itself (it is required lazily on mount), so this runs without libfuse.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeTime } from '../../../../fs/transport/fuse-native.js';

/** The (low, high) halves of a 64-bit two's-complement value. */
const halves = (ns: bigint): [number, number] => [Number(ns & 0xffffffffn), Number((ns >> 32n) & 0xffffffffn)];

describe('decodeTime', () => {
  it.for([
    ['UTIME_NOW', [0, 0xffffffff], 'now'],
    ['UTIME_OMIT', [0, 0xfffffffe], 'omit'],
    ['the epoch', halves(0n), 0n],
    ['a time with nanoseconds', halves(1_700_000_000_123_456_789n), 1_700_000_000_123_456_789n],
    ['the year 2100', halves(4_102_444_800_000_000_000n), 4_102_444_800_000_000_000n],
    ['a time before 1970', halves(-100_500_000_000n), -100_500_000_000n],
    ['a time just below the UTIME_OMIT marker', [0, 0xfffffffd], -(3n << 32n)],
    ['the UTIME_NOW high word with a non-zero low word (a time just before 1970)', [1, 0xffffffff], -(1n << 32n) + 1n],
  ] as const)('decodes %s', ([, [low, high], want]) => {
    expect(decodeTime(low, high)).toBe(want);
  });
});

describe('importing the fuse-native transport', () => {
  it('does not load fuse-native', () => {
    const require = createRequire(import.meta.url);
    const id = require.resolve('fuse-native');
    expect(require.cache[id]).toBeUndefined();
  });
});
