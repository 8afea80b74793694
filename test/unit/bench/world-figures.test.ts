import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../../bench/options.js';
import { judge, summarizePairs, type Side } from '../../../bench/pairs.js';
import { renderWorldLines, renderWorldMarkdown } from '../../../bench/report/world.js';
import { SampleBook } from '../../../bench/samples.js';
import { QUICK } from '../../../bench/sizes.js';
import { summarizeSample } from '../../../bench/stats.js';
import { firstDifference } from '../../../bench/workloads/in-world-runner.js';
import { aptSession, inWorldSession, pairDefs, RSS_KEY } from '../../../bench/workloads/in-world.js';
import { selected } from '../../../bench/workloads/index.js';

const stat = (runs: number[], censored = 0) => summarizeSample({ runs, errors: [], censored, skipped: 0 });

describe('world figures of the bench (issue 11)', () => {
  it('divides the world median by the host median, warm and first runs apart', () => {
    const book = new SampleBook<Side>();
    for (const v of [0.1, 0.3, 0.2]) book.record('in-world/find', 'ref', v);
    for (const v of [2, 1, 3]) book.record('in-world/find', 'world', v);
    book.record('in-world/find', 'ref-first', 0.5);
    book.record('in-world/find', 'world-first', 4);
    const [f] = summarizePairs(book.samples, [{ key: 'find', session: 'in-world', label: 'find', unit: 's', target: { kind: 'ratio', value: 1.5 } }], 'host');
    expect(f!.ratio).toBeCloseTo(10);
    expect(f!.firstRatio).toBeCloseTo(8);
    expect(f!.met).toBe(false);
    expect(f!.reference).toBe('host');
  });

  it('meets a ratio target only within it, and never with a world figure that hit the deadline', () => {
    const t = { kind: 'ratio', value: 1.5 } as const;
    expect(judge(t, stat([1.4]), 1.4)).toBe(true);
    expect(judge(t, stat([1.6]), 1.6)).toBe(false);
    expect(judge(t, stat([30], 1), 1.2)).toBe(false);
    expect(judge(t, undefined, undefined)).toBeUndefined();
  });

  it('judges start-up in seconds and memory by its largest value', () => {
    expect(judge({ kind: 'seconds', value: 0.3 }, stat([0.2, 0.25, 0.5]), undefined)).toBe(true);
    expect(judge({ kind: 'seconds', value: 0.3 }, stat([1.0]), undefined)).toBe(false);
    expect(judge({ kind: 'MiB', value: 100 }, stat([60, 70, 120]), undefined)).toBe(false);
    expect(judge({ kind: 'MiB', value: 100 }, stat([60, 99]), undefined)).toBe(true);
  });

  it('gives no ratio against a reference that hit the deadline', () => {
    const book = new SampleBook<Side>();
    book.censor('apt/install', 'ref', 120);
    book.record('apt/install', 'world', 60);
    const [f] = summarizePairs(book.samples, pairDefs(aptSession()).slice(0, 1), 'overlayfs chroot');
    expect(f!.ratio).toBeUndefined();
  });

  it('has a target for every figure: start-up in seconds, memory in MiB, the rest as ratios', () => {
    const defs = pairDefs(inWorldSession(QUICK.inWorld));
    expect(defs.find((d) => d.key === 'start')!.target).toEqual({ kind: 'seconds', value: 0.3 });
    expect(defs.find((d) => d.key === RSS_KEY)!.target).toEqual({ kind: 'MiB', value: 100 });
    expect(defs.filter((d) => d.target.kind === 'ratio').map((d) => d.key)).toEqual(['find', 'git', 'gcc', 'sha1sum', 'python', 'untar', 'make']);
    expect(inWorldSession(QUICK.inWorld).commands[0]!.key).toBe('start');
  });

  it('writes each run of a command that makes files into a fresh place on its own side; tar -x\'s trees are checked and kept', () => {
    const cmds = inWorldSession(QUICK.inWorld).commands;
    const untar = cmds.find((c) => c.key === 'untar')!;
    const a = untar.line({ fx: '/f', out: '/f/out-host', n: 1 });
    const b = untar.line({ fx: '/f', out: '/f/out-world', n: 2 });
    expect(a).toContain('/f/out-host/untar1');
    expect(b).toContain('/f/out-world/untar2');
    // Kept until the session ends: removing them before the next run would time ext4's scan past freed inodes.
    expect(untar.after!({ fx: '/f', out: '/f/out-world', n: 2 })).toBe(`test -d '/f/out-world/untar2/linux'`);
    expect(untar.keepsOutput).toBe(true);
    expect(cmds.filter((c) => c.keepsOutput).map((c) => c.key)).toEqual(['untar']);
  });

  it('is selected by its group and each session by its id', () => {
    expect(selected(['in-world'], inWorldSession(QUICK.inWorld))).toBe(true);
    expect(selected(['in-world'], aptSession())).toBe(true);
    expect(selected(['apt'], inWorldSession(QUICK.inWorld))).toBe(false);
    expect(selected(['apt'], aptSession())).toBe(true);
  });

  it('takes the apt deadline from the command line, with a longer default for the full run', () => {
    expect(parseBenchArgs(['--quick']).aptTimeoutSec).toBe(120);
    expect(parseBenchArgs([]).aptTimeoutSec).toBe(600);
    expect(parseBenchArgs(['--apt-timeout', '45']).aptTimeoutSec).toBe(45);
    expect(() => parseBenchArgs(['--apt-timeout', '0'])).toThrow(/apt-timeout/);
  });

  it('names the first line where the world and the host disagree', () => {
    expect(firstDifference('a\nb\n', 'a\nc\n')).toBe('line 2: host "b", world "c"');
    expect(firstDifference('a\n', 'a\nextra')).toBe('line 2: host "", world "extra"');
  });

  it('reports misses, failures and host changes in the Markdown and the terminal lines', () => {
    const book = new SampleBook<Side>();
    book.record('in-world/find', 'ref', 0.1);
    book.record('in-world/find', 'world', 9);
    book.fail('apt/install', 'world', 'E: Unable to determine file size');
    book.record('apt/install', 'ref', 10);
    const figures = [
      ...summarizePairs(book.samples, pairDefs(inWorldSession(QUICK.inWorld)).filter((d) => d.key === 'find'), 'host'),
      ...summarizePairs(book.samples, pairDefs(aptSession()).slice(0, 1), 'overlayfs chroot'),
    ];
    const w = { figures, alarms: ['HOST CHANGED after the world\'s run 1: /var/lib/dpkg/status changed'], commit: 'abc1234' };
    const md = renderWorldMarkdown(w, 3, 120).join('\n');
    expect(md).toMatch(/\| find \/usr\/share\/doc\/\[a-d\]\* -printf x \| 100ms \| 9\.00s \| 90\.0x \|.*\*\*missed\*\*/);
    expect(md).toContain('| 10.00s | FAIL | — |');
    expect(md).toContain('E: Unable to determine file size');
    expect(md).toContain('**HOST CHANGED');
    const lines = renderWorldLines(w).join('\n');
    expect(lines).toContain('MISSED');
    expect(lines).toContain('!!! HOST CHANGED');
  });
});
