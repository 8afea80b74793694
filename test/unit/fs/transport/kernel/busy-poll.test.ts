// The busy-poll window (fs/transport/kernel/busy-poll.ts): it grows while requests come within what
// a longer window would have covered, shrinks to none when the daemon stays idle longer, and a
// maximum of 0 never spins.
import { describe, expect, it } from 'vitest';
import { BusyPoll, START_NS } from '../../../../../fs/transport/kernel/busy-poll.js';

/** Run the device dry at `t` (after the current spin) and wake it `gap` ns later: the time after the wake-up. */
function idleFor(p: BusyPoll, t: number, gap: number): number {
  p.idle(t);
  p.woke(t + gap);
  return t + gap;
}

describe('BusyPoll', () => {
  it('never spins with a maximum of 0, whatever the idle times', () => {
    const p = new BusyPoll(0);
    expect(p.spinNs).toBe(0);
    let t = 0;
    for (const gap of [1_000, 10, 1e9]) t = idleFor(p, t, gap);
    expect(p.spinNs).toBe(0);
  });

  it('starts at START_NS (or the maximum when smaller)', () => {
    expect(new BusyPoll(100_000).spinNs).toBe(START_NS);
    expect(new BusyPoll(2_000).spinNs).toBe(2_000);
  });

  it('doubles up to the maximum while the idle time (spin included) stays within it', () => {
    const p = new BusyPoll(100_000);
    const seen: number[] = [];
    let t = 0;
    for (let i = 0; i < 5; i++) {
      t = idleFor(p, t, 1_000);
      seen.push(p.spinNs);
    }
    expect(seen).toEqual([10_000, 20_000, 40_000, 80_000, 100_000]);
    // A whole window of the maximum and more: even the longest spin would have missed it.
    idleFor(p, t, 1_000);
    expect(p.spinNs).toBe(50_000);
  });

  it('halves when idle longer than the maximum, and stops spinning below START_NS', () => {
    const p = new BusyPoll(100_000);
    let t = 0;
    for (let i = 0; i < 5; i++) t = idleFor(p, t, 1_000);
    expect(p.spinNs).toBe(100_000);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      t = idleFor(p, t, 5_000_000);
      seen.push(p.spinNs);
    }
    expect(seen).toEqual([50_000, 25_000, 12_500, 6_250, 0, 0]);
  });

  it('starts again from nothing once requests come close together', () => {
    const p = new BusyPoll(100_000);
    let t = 0;
    for (let i = 0; i < 3; i++) t = idleFor(p, t, 1e9);
    expect(p.spinNs).toBe(0);
    t = idleFor(p, t, 30_000);
    expect(p.spinNs).toBe(START_NS);
  });

  it('counts the idle time after the spin: a window of 80 µs and 30 µs more exceeds 100 µs', () => {
    const p = new BusyPoll(100_000);
    let t = 0;
    for (let i = 0; i < 4; i++) t = idleFor(p, t, 1_000);
    expect(p.spinNs).toBe(80_000);
    t = idleFor(p, t, 30_000);
    expect(p.spinNs).toBe(40_000);
  });

  it('ignores a wake-up with no idle time recorded since the last (a turn cut short by its request budget)', () => {
    const p = new BusyPoll(100_000);
    p.woke(1e12);
    expect(p.spinNs).toBe(START_NS);
  });

  it('counts spins and the ones a request ended', () => {
    const p = new BusyPoll(100_000);
    p.spun(true);
    p.spun(false);
    p.spun(true);
    expect(p.counters).toEqual({ spins: 3, spinsCaught: 2 });
  });
});
