// The node budget (fs/transport/kernel/node-budget.ts): which nodes a round offers the kernel (the
// ones looked up longest ago that it might let go), when rounds are made, the PRUNE message, and a
// kernel without NOTIFY_PRUNE turning it off.
import { describe, expect, it } from 'vitest';
import { InodeTable, type Node } from '../../../../../fs/transport/kernel/inodes.js';
import { IDS_PER_NOTICE, LOW_WATER, MAX_GAP_MS, MIN_GAP_MS, NodeBudget, coldest, type Tell } from '../../../../../fs/transport/kernel/node-budget.js';
import { Notify, OUT_HEADER_SIZE, encodePrune } from '../../../../../fs/transport/kernel/protocol.js';

/** A table with a directory `d` holding files f0..f(n-1), looked up in that order. */
function table(n: number): { t: InodeTable; d: Node; files: Node[] } {
  const t = new InodeTable();
  const d = t.lookup(t.root, 'd', true);
  const files = Array.from({ length: n }, (_, i) => t.lookup(d, `f${i}`, false, `1:${i}`));
  return { t, d, files };
}

/** Node ids a PRUNE message carries. */
function idsOf(b: Buffer): number[] {
  const count = b.readUInt32LE(OUT_HEADER_SIZE);
  return Array.from({ length: count }, (_, i) => Number(b.readBigUInt64LE(OUT_HEADER_SIZE + 16 + 8 * i)));
}

/** A Tell that records what it is given and settles when the test says. */
function recorder() {
  const sent: Buffer[][] = [];
  const pending: { resolve: () => void; onError: (e: NodeJS.ErrnoException) => void }[] = [];
  const tell: Tell = (notices, onError) => {
    sent.push(notices);
    return new Promise<void>((resolve) => pending.push({ resolve, onError }));
  };
  return { sent, pending, tell };
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('encodePrune', () => {
  it('is NOTIFY_PRUNE with a count, 12 bytes of padding and spare, then the ids as u64', () => {
    const b = encodePrune([5, 2 ** 40 + 3]);
    expect(b.length).toBe(OUT_HEADER_SIZE + 16 + 16);
    expect(b.readUInt32LE(0)).toBe(b.length);
    expect(b.readInt32LE(4)).toBe(Notify.PRUNE);
    expect(b.readBigUInt64LE(8)).toBe(0n);
    expect(idsOf(b)).toEqual([5, 2 ** 40 + 3]);
    expect(b.subarray(OUT_HEADER_SIZE + 4, OUT_HEADER_SIZE + 16).every((x) => x === 0)).toBe(true);
  });
});

describe('coldest', () => {
  it('picks the nodes looked up longest ago, a lookup again making one recent', () => {
    const { t, files } = table(10);
    t.lookup(files[0]!.links[0]!.parent, 'f0', false, '1:0'); // f0 is now the most recent
    const got = coldest(t.all(), t.root, 3, t.lookups, () => false);
    expect(got.map((n) => n.links[0]!.name)).toEqual(['f1', 'f2', 'f3']);
  });

  it('never offers the root, a node the kernel no longer holds, a directory with known children, or one in use', () => {
    const { t, d, files } = table(4);
    const empty = t.lookup(t.root, 'e', true);
    files[2]!.nlookup = 0; // held by nothing (as between a FORGET and the table dropping it)
    const got = coldest(t.all(), t.root, 100, t.lookups, (n) => n === files[3]);
    expect(got).toEqual([files[0], files[1], empty]);
    expect(got).not.toContain(d);
    expect(got).not.toContain(t.root);
  });

  it('finds the exact oldest across a histogram bucket shared by many (ties broken by use)', () => {
    const { t, files } = table(5000);
    for (let i = 0; i < 5000; i += 7) t.touch(files[i]!);
    const want = files.filter((_, i) => i % 7 !== 0).slice(0, 1234);
    const got = coldest(t.all(), t.root, 1234, t.lookups, () => false);
    expect(new Set(got)).toEqual(new Set(want));
  });

  it('returns every eligible node when fewer than asked, and none for a count of 0', () => {
    const { t, files } = table(3);
    expect(new Set(coldest(t.all(), t.root, 10, t.lookups, () => false))).toEqual(new Set(files));
    expect(coldest(t.all(), t.root, 0, t.lookups, () => false)).toEqual([]);
  });
});

describe('NodeBudget', () => {
  it('makes no round at or under its budget, nor with a budget of 0', () => {
    const { t } = table(2000);
    const r = recorder();
    new NodeBudget(t.size, t, () => false, r.tell, () => 1000).check();
    new NodeBudget(0, t, () => false, r.tell, () => 1000).check();
    expect(r.sent).toEqual([]);
  });

  it('past its budget, offers the oldest down to LOW_WATER of it, in notices of IDS_PER_NOTICE ids', async () => {
    const { t, files } = table(12_000);
    const r = recorder();
    const max = 8192;
    const b = new NodeBudget(max, t, () => false, r.tell, () => 1000);
    b.check();
    expect(r.sent).toHaveLength(1);
    const ids = r.sent[0]!.flatMap(idsOf);
    const want = t.size - Math.floor(max * LOW_WATER);
    expect(ids).toHaveLength(want);
    expect(r.sent[0]!.length).toBe(Math.ceil(want / IDS_PER_NOTICE));
    expect(new Set(ids)).toEqual(new Set(files.slice(0, want).map((n) => n.id)));
    expect(b.counters).toEqual({ pruneRounds: 1, pruneOffered: want });
    // Offered ones count as used: they are the newest now.
    expect(files[0]!.used).toBeGreaterThan(files[want]!.used);
  });

  it('makes one round at a time, the next no sooner than MIN_GAP_MS after the last, offering others first', async () => {
    const { t } = table(3000);
    const r = recorder();
    let now = 1000;
    const b = new NodeBudget(2048, t, () => false, r.tell, () => now);
    b.check();
    now += 10 * MIN_GAP_MS;
    b.check(); // the first is still being written
    expect(r.sent).toHaveLength(1);
    r.pending[0]!.resolve();
    await settle();
    now += MIN_GAP_MS - 1;
    const first = r.sent[0]!.flatMap(idsOf);
    // No FORGET came (the kernel kept them all): the table is as large as before.
    b.check();
    expect(r.sent).toHaveLength(2); // 10 gaps passed since the first round was made
    const second = r.sent[1]!.flatMap(idsOf);
    expect(second.filter((id) => first.includes(id)).length).toBeLessThan(second.length);
    r.pending[1]!.resolve();
    await settle();
    b.check(); // too soon after the second
    expect(r.sent).toHaveLength(2);
  });

  it('doubles the gap between rounds while none frees a node (up to MAX_GAP_MS), and goes back to MIN_GAP_MS once one does', async () => {
    const { t, files } = table(3000);
    const r = recorder();
    let now = 0;
    const b = new NodeBudget(2048, t, () => false, r.tell, () => now);
    /** Rounds made at each of `times` (ms), every round written at once. */
    const roundsAt = async (times: number[]) => {
      const out: number[] = [];
      for (const at of times) {
        now = at;
        const before = r.sent.length;
        b.check();
        if (r.sent.length > before) {
          out.push(at);
          r.pending.at(-1)!.resolve();
          await settle();
        }
      }
      return out;
    };
    const every10 = (from: number, to: number) => Array.from({ length: (to - from) / 10 + 1 }, (_, i) => from + 10 * i);
    // The kernel keeps everything: gaps of 50, 100, 200, 400 ms...
    expect(await roundsAt(every10(0, 800))).toEqual([0, 50, 150, 350, 750]);
    // ...never more than MAX_GAP_MS.
    const later = await roundsAt(every10(810, 30_000));
    const gaps = later.map((x, i) => x - (i === 0 ? 750 : later[i - 1]!));
    expect(Math.max(...gaps)).toBe(MAX_GAP_MS);
    // A node leaves the table (the kernel forgot one): the next round is MIN_GAP_MS after this one.
    const last = later.at(-1)!;
    t.forget(files[2999]!.id, files[2999]!.nlookup);
    const next = await roundsAt(every10(last + 10, last + MAX_GAP_MS + 200));
    expect(next[1]! - next[0]!).toBe(MIN_GAP_MS);
  });

  it('stops for good where the kernel answers EINVAL (no NOTIFY_PRUNE), and says so once', async () => {
    const { t } = table(3000);
    const r = recorder();
    let now = 0;
    const b = new NodeBudget(2048, t, () => false, r.tell, () => now);
    const writes: string[] = [];
    const write = process.stderr.write;
    process.stderr.write = ((s: string) => { writes.push(s); return true; }) as typeof process.stderr.write;
    try {
      b.check();
      r.pending[0]!.onError(Object.assign(new Error('Invalid argument'), { code: 'EINVAL' }));
      r.pending[0]!.resolve();
      await settle();
      now += 1000;
      b.check();
    } finally {
      process.stderr.write = write;
    }
    expect(r.sent).toHaveLength(1);
    expect(b.active).toBe(false);
    expect(writes.join('')).toMatch(/cannot prune inodes/);
  });
});
