// The transport=auto|native|kernel mount option (fs/options.ts) and $WORLDFS_TRANSPORT as its default.
import { describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../../../../fs/options.js';

const base = ['-o', 'lowerdir=/l,upperdir=/u', '/mnt'];

describe('transport=', () => {
  it('defaults to auto', () => {
    expect(parseArgs(base).transport).toBe('auto');
  });

  it('takes kernel or native from the option, over the default', () => {
    expect(parseArgs([...base, '-o', 'transport=kernel']).transport).toBe('kernel');
    expect(parseArgs([...base, '-o', 'transport=native'], { transport: 'kernel' }).transport).toBe('native');
  });

  it('takes the default from the caller ($WORLDFS_TRANSPORT)', () => {
    expect(parseArgs(base, { transport: 'kernel' }).transport).toBe('kernel');
  });

  it('refuses other transports, from the option or the default', () => {
    expect(() => parseArgs([...base, '-o', 'transport=fuse3'])).toThrow(UsageError);
    expect(() => parseArgs(base, { transport: 'libfuse' })).toThrow(/WORLDFS_TRANSPORT=libfuse/);
  });
});
