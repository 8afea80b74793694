// Whether the kernel opens files or directories itself (fs/transport/kernel/kernel-opens.ts): the
// first open decides for good, only where the kernel offered it; fh 0 means "by node" only then;
// a takeover restores the decision as it was.
import { describe, expect, it } from 'vitest';
import { KernelOpens } from '../../../../../fs/transport/kernel/kernel-opens.js';

describe('KernelOpens', () => {
  it('decides at the first open, where the kernel offered it, and later opens follow', () => {
    const k = new KernelOpens();
    k.offered = true;
    expect(k.decision).toBeUndefined();
    expect(k.active).toBe(false);
    expect(k.decide(true)).toBe(true);
    expect(k.decide(false)).toBe(true);
    expect(k.active).toBe(true);
    const no = new KernelOpens(); // a kernel that did not offer it
    expect(no.decide(true)).toBe(false);
    expect(no.decide(true)).toBe(false);
    expect(no.decision).toBe(false);
  });

  it('takes fh 0 as "by node" only once the kernel opens them itself', () => {
    const k = new KernelOpens();
    k.offered = true;
    expect(k.byNode(0)).toBe(false);
    k.decide(true);
    expect(k.byNode(0)).toBe(true);
    expect(k.byNode(7)).toBe(false);
  });

  it('a takeover restores the dead daemon\'s decision, whatever this one would decide', () => {
    const k = new KernelOpens();
    k.restore(true);
    expect(k.decide(false)).toBe(true);
    expect(k.byNode(0)).toBe(true);
  });
});
