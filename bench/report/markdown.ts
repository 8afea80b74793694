// The Markdown report of one run: machine, peers, medians with min–max, ratios, depth scaling,
// world operations, daemon memory, the world figures (world.ts) and every failure. Pure: a function of the result document.
import type { PeerId } from '../options.js';
import type { ResultDoc } from '../results.js';
import type { FigureSummary, Scaling, Stat } from '../stats.js';
import { renderWorldMarkdown } from './world.js';
import { CELL_LEGEND, fmtCell, fmtRatio, fmtSeconds, fmtStatRatio, fmtValue } from './format.js';

const esc = (s: string) => s.replace(/\|/g, '\\|');

export function renderMarkdown(doc: ResultDoc, chartFile: string): string {
  const m = doc.machine;
  const out: string[] = [];
  out.push(`# worldos bench: ${doc.mode} run, ${doc.date}`, '');
  out.push(`Each figure is the median of ${doc.options.runs} runs (min–max in brackets), every run on a fresh mount after`);
  out.push('`echo 3 > /proc/sys/vm/drop_caches`. Ratios divide medians taken in this same run. How to read them: `bench/README.md`.', '');
  out.push('## Machine', '', '| | |', '|---|---|');
  out.push(`| CPU | ${esc(m.cpuModel)}, ${m.cores} cores |`, `| memory | ${m.memoryGiB} GiB |`, `| OS, kernel | ${esc(m.os)}, ${m.kernel} |`);
  out.push(`| Node | ${m.node} |`, `| disk under test | ${esc(m.disk)} |`);
  if (m.wakeups !== undefined) out.push(`| wake-ups (bench/README.md, "Wake-ups") | ${esc(m.wakeups)} |`);
  out.push(`| load average (1 min) | ${m.loadStart.toFixed(2)} at start, ${m.loadEnd?.toFixed(2) ?? '?'} at end${m.loadStart > m.cores * 0.5 ? ' (**busy machine: numbers are noisy**)' : ''} |`);
  out.push(`| options | ${doc.mode === 'quick' ? '--quick ' : ''}--runs ${doc.options.runs}${doc.options.only.length ? ` --only ${doc.options.only.join(',')}` : ''}${doc.options.worldfsOpts ? ` --worldfs-opts ${doc.options.worldfsOpts}` : ''} |`);
  out.push(`| deadlines | ${doc.options.timeoutSec} s per measured command; ${doc.options.sessionBudgetSec} s per peer and session, all runs together |`);
  out.push(`| duration | ${fmtSeconds(doc.durationSec)} (building layer trees: ${fmtSeconds(doc.setupSec)}) |`, '');

  if (doc.peers.length) {
    out.push('## Peers', '', '| peer | ran | what |', '|---|---|---|');
    for (const p of doc.peers) out.push(`| ${p.id} | ${p.unavailable ? `**no**: ${esc(p.unavailable)}` : 'yes'} | ${esc(p.description)} |`);
    out.push('');
  }

  const peers = doc.peers;
  const unavailable = (id: PeerId) => peers.find((p) => p.id === id)?.unavailable !== undefined;
  const figures = doc.figures.filter((f) => f.group !== 'worlds' && !f.key.endsWith('/peak-mem'));
  if (figures.length) {
    out.push('## Results', '', CELL_LEGEND.replace(/"/g, '`') + '.', '', `| figure | ${peers.map((p) => p.id).join(' | ')} |`, `|---|${peers.map(() => '---:').join('|')}|`);
    for (const f of figures) out.push(`| ${esc(f.label)} | ${peers.map((p) => cellWithRange(f.byPeer[p.id], f, unavailable(p.id))).join(' | ')} |`);
    out.push('');

    const others = peers.filter((p) => p.id !== 'ext4');
    out.push('## Ratios', '', 'Median of the peer divided by the median of ext4 / of fuse-overlayfs, same run (lower is faster).', '');
    out.push(`| figure | ${others.map((p) => `${p.id} ×ext4 / ×f-ovl`).join(' | ')} |`, `|---|${others.map(() => '---:').join('|')}|`);
    for (const f of figures) {
      if (f.unit !== 's') continue;
      out.push(`| ${esc(f.label)} | ${others.map((p) => {
        const st = f.byPeer[p.id];
        return st?.median === undefined ? (unavailable(p.id) ? 'n/a' : '') : `${fmtStatRatio(st, 'vsExt4')} / ${fmtStatRatio(st, 'vsFuseOverlayfs')}`;
      }).join(' | ')} |`);
    }
    out.push('');
  }

  if (doc.depth.length) {
    out.push('## Depth scaling', '', `The same ${(doc.sizes.walkDirs * doc.sizes.walkFilesPerDir).toLocaleString('en-US')} files spread over ${doc.sizes.depths.join(', ')} layers. Slope: least-squares seconds per added layer; growth: the deepest stack against one layer (target for worldfs: within 1.2x). A leading > marks a lower bound: the runs hit the deadline, so the real figure is higher.`, '');
    out.push(`| peer | figure | ${doc.sizes.depths.map((k) => `${k}L`).join(' | ')} | slope per layer | growth |`, `|---|---|${doc.sizes.depths.map(() => '---:').join('|')}|---:|---:|`);
    for (const d of doc.depth) out.push(scalingRow(d, doc.sizes.depths));
    out.push('');
  }

  const worlds = doc.figures.filter((f) => f.group === 'worlds');
  if (worlds.length) {
    out.push('## World operations (worldctl, worldfs only)', '', 'Whole `worldctl` commands, Node start-up included. Targets: create constant in parent size, merge linear in changed files.', '');
    out.push('| operation | median | min–max | runs failed |', '|---|---:|---:|---:|');
    for (const f of worlds) {
      const st = f.byPeer.worldfs;
      out.push(`| ${esc(f.label)} | ${fmtValue(st?.median, f.unit)} | ${range(st, f)} | ${st?.errors.length ?? 0} |`);
    }
    for (const s of doc.merge) {
      if (s.slope === undefined) continue;
      const cost = (s.slope < 0 ? '−' : '') + fmtSeconds(Math.abs(s.slope));
      out.push('', `Merge cost: ${cost} per changed file (least squares over ${s.points.map(([k]) => k).join('/')} changed files; within the noise when it is near 0).`);
    }
    out.push('');
  }

  const mem = doc.figures.filter((f) => f.key.endsWith('/peak-mem'));
  if (mem.length) {
    const fuse = peers.filter((p) => p.kind === 'fuse');
    out.push('## Daemon peak memory', '', 'VmHWM of the FUSE daemon (/proc/PID/status) at the end of each session: its peak resident memory.', '');
    out.push(`| session | ${fuse.map((p) => p.id).join(' | ')} |`, `|---|${fuse.map(() => '---:').join('|')}|`);
    for (const f of mem) out.push(`| ${esc(f.label)} | ${fuse.map((p) => cellWithRange(f.byPeer[p.id], f, unavailable(p.id))).join(' | ')} |`);
    out.push('');
  }

  if (doc.world) out.push(...renderWorldMarkdown(doc.world, doc.options.runs, doc.options.aptTimeoutSec));

  const failures: string[] = [];
  for (const f of doc.figures) {
    for (const [peer, st] of Object.entries(f.byPeer) as [PeerId, Stat][]) {
      for (const e of new Set(st.errors)) failures.push(`- ${f.key} on ${peer} (${st.errors.filter((x) => x === e).length} of ${st.errors.length + st.runs.length} runs): ${e}`);
    }
  }
  if (failures.length) out.push('## Failures', '', ...failures, '');
  out.push('## Chart', '', `![depth scaling and ratios](${chartFile})`, '');
  return out.join('\n');
}

function range(st: Stat | undefined, f: FigureSummary): string {
  if (st?.min === undefined) return '';
  return `${fmtValue(st.min, f.unit)}–${fmtValue(st.max, f.unit)}`;
}

function cellWithRange(st: Stat | undefined, f: FigureSummary, unavailable: boolean): string {
  const cell = fmtCell(st, f.unit, unavailable);
  if (st?.median === undefined || st.runs.length < 2) return cell;
  return `${cell} [${range(st, f)}]`;
}

function scalingRow(d: Scaling, xs: readonly number[]): string {
  const cell = (x: number) => {
    const p = d.points.find(([k]) => k === x);
    return p ? (p[2] ? '>' : '') + fmtValue(p[1], 's') : '—';
  };
  const b = d.bound ? '>' : '';
  const slopeCell = d.slope === undefined ? '—' : b + (d.slope < 0 ? '−' : '') + fmtSeconds(Math.abs(d.slope));
  return `| ${d.peer} | ${d.metric} | ${xs.map(cell).join(' | ')} | ${slopeCell} | ${d.growth === undefined ? '—' : b + fmtRatio(d.growth)} |`;
}
