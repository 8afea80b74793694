// decodeTime (fs/transport/fuse-native.ts): the UTIME_NOW / UTIME_OMIT markers our fuse-native patch
// sends as 0xFFFFFFFF and 0xFFFFFFFE in the high 32 bits. Importing the transport must not load
// fuse-native itself (it is required lazily on mount), so this runs without libfuse.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { decodeTime } from '../../../../fs/transport/fuse-native.js';

const HIGH = 2 ** 32;
/** What fuse-native's getDoubleArg builds from the (low, high) 32-bit halves. */
const fromHalves = (low: number, high: number) => low + high * HIGH;

describe('decodeTime', () => {
  it.for([
    ['UTIME_NOW', fromHalves(0, 0xffffffff), 'now'],
    ['UTIME_OMIT', fromHalves(0, 0xfffffffe), 'omit'],
    ['the epoch', 0, 0],
    ['a time in milliseconds', 1_700_000_000_123, 1_700_000_000_123],
    ['the year 2100', Date.UTC(2100, 0, 1), Date.UTC(2100, 0, 1)],
    ['the largest exact time (2^53 - 1 ms)', Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
    ['a time just below the UTIME_OMIT marker', fromHalves(0, 0xfffffffd), fromHalves(0, 0xfffffffd)],
  ] as const)('decodes %s', ([, ms, want]) => {
    expect(decodeTime(ms)).toBe(want);
  });
});

describe('importing the fuse-native transport', () => {
  it('does not load fuse-native', () => {
    const require = createRequire(import.meta.url);
    const id = require.resolve('fuse-native');
    expect(require.cache[id]).toBeUndefined();
  });
});
