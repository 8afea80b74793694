// The terminal progress line (cli/progress.ts) on a fake clock: quick work draws nothing, long work
// is redrawn in place at a bounded rate and cleared at its end.
import { describe, expect, it } from 'vitest';
import { terminalProgress } from '../../../cli/progress.js';
import { silentProgress, withElapsed } from '../../../src/progress.js';

function fixture() {
  let t = 0;
  let out = '';
  const p = terminalProgress((s) => { out += s; }, { delayMs: 300, everyMs: 100, now: () => t });
  return { p, tick: (ms: number) => { t += ms; }, out: () => out };
}

describe('terminal progress', () => {
  it('draws nothing for work that ends before the delay', () => {
    const f = fixture();
    const task = f.p.begin('merging "c" into "p"', 10, 'changes');
    for (let i = 1; i <= 10; i++) { f.tick(20); task.update(i); }
    task.end();
    expect(f.out()).toBe('');
  });

  it('draws "what: done/total unit" in place, at most once per interval, and clears it at the end', () => {
    const f = fixture();
    const task = f.p.begin('merging "c" into "p"', 1000, 'changes');
    f.tick(300);
    task.update(10);
    f.tick(50);
    task.update(20); // too soon after the last draw
    f.tick(60);
    task.update(30);
    task.end();
    expect(f.out()).toBe('\r\x1b[Kmerging "c" into "p": 10/1000 changes\r\x1b[Kmerging "c" into "p": 30/1000 changes\r\x1b[K');
  });

  it('shows a count without a total when the total is unknown', () => {
    const f = fixture();
    const task = f.p.begin('mounting world "w" over /', undefined, 's');
    f.tick(2000);
    task.update(2);
    expect(f.out()).toBe('\r\x1b[Kmounting world "w" over /: 2 s');
  });

  it('reports elapsed seconds while a promise runs, and nothing to nobody', async () => {
    const seen: number[] = [];
    let ended = false;
    const p = { begin: () => ({ update: (n: number) => { seen.push(n); }, end: () => { ended = true; } }) };
    expect(await withElapsed(p, 'x', () => new Promise((r) => setTimeout(() => r(7), 30)), 5)).toBe(7);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((n) => n === 0)).toBe(true);
    expect(ended).toBe(true);
    expect(await withElapsed(silentProgress, 'x', async () => 1)).toBe(1);
  });
});
