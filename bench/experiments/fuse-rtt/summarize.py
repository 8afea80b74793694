#!/usr/bin/env python3
# usage: summarize.py results.txt
import re, sys, statistics as st
from collections import defaultdict
rows = defaultdict(list)
lines = [l for f in sys.argv[1:] for l in open(f)]
for line in lines:
    mode, tag = line.split()[:2]
    group = tag.split('-')[0]
    g = lambda k: float(re.search(k + r'=([\d.]+)', line).group(1))
    same, diff = g('same_cpu'), g('diff_cpu')
    rows[(group, mode)].append(dict(avg=g('avg_us'), p50=g('p50_us'), p99=g('p99_us'),
        samepct=100 * same / (same + diff), busy=g(r'machine_busy%\(of 2 cpus\)'),
        foreign=(lambda m: None if not m else 100 * (float(m.group(1)) - g('client_cpu_s') - g('daemon_cpu_s')) / (2 * g('wall_s')))(re.search(r'busy_cpu_s=([\d.]+)', line)),
        pre=(lambda m: None if not m else float(m.group(1)))(re.search(r'prerun_busy%=([\d.]+)', line)),
        smp=re.search(r'sampler: samples=(\d+) same=(\d+) diff=(\d+)', line).groups()))
print("%-6s %-12s %3s  %-26s %-8s %-22s %-8s %s" % ("group", "variant", "n", "avg us/lookup med [min-max]",
      "p50 med", "same-CPU % of requests", "busy%", "sampler same/total (per run)"))
for (grp, mode) in sorted(rows, key=lambda k: (['free', 'cross', 'same'].index(k[0]), k[1])):
    r = rows[(grp, mode)]
    a = [x['avg'] for x in r]; s = [x['samepct'] for x in r]
    print("%-6s %-12s %3d  %6.2f [%6.2f-%6.2f]     %6.2f   %5.1f [%5.1f-%5.1f]     %3.0f   %s" % (
        grp, mode, len(r), st.median(a), min(a), max(a), st.median(x['p50'] for x in r),
        st.median(s), min(s), max(s), st.median(x['busy'] for x in r),
        ' '.join('%s/%s' % (x['smp'][1], x['smp'][0]) for x in r)))
print()
print("per-run avg us/lookup, in run order (machine busy% in the 0.5 s before the run in parentheses, when gated):")
for k in sorted(rows, key=lambda k: (['free', 'cross', 'same'].index(k[0]), k[1])):
    print("  %-6s %-12s %s" % (k[0], k[1], ' '.join('%.1f' % x['avg'] + ('' if x['pre'] is None else '(%.0f)' % x['pre']) for x in rows[k])))
print()
for title, pred in (("QUIET runs (machine busy < 8% in the 0.5 s before the run):", lambda x: x['pre'] is not None and x['pre'] < 8),
                    ("LOADED runs (another process kept ~1 CPU busy before the run):", lambda x: x['pre'] is not None and x['pre'] >= 8)):
  print(title)
  for (grp, mode) in sorted(rows, key=lambda k: (['free', 'cross', 'same'].index(k[0]), k[1])):
    r = [x for x in rows[(grp, mode)] if pred(x)]
    if not r: continue
    a = [x['avg'] for x in r]; s = [x['samepct'] for x in r]
    print("    %-6s %-12s n=%2d  avg %6.2f [%6.2f-%6.2f]  p50 med %6.2f  same-CPU%% med %5.1f [%5.1f-%5.1f]" % (grp, mode, len(r), st.median(a), min(a), max(a), st.median(x['p50'] for x in r), st.median(s), min(s), max(s)))
