// The world figures in the reports: a Markdown section, terminal lines and a ratio chart of each
// command in a world over / against the host (apt: against an overlayfs chroot), judged against
// issue 11's targets. Pure: functions of the result document.
import type { PairFigure, Target } from '../pairs.js';
import type { WorldFigures } from '../results.js';
import type { Stat } from '../stats.js';
import { fmtCell, fmtRatio, fmtSeconds, fmtValue } from './format.js';

const esc = (s: string) => s.replace(/\|/g, '\\|');

export function fmtTarget(t: Target): string {
  switch (t.kind) {
    case 'ratio': return `≤ ${t.value}x`;
    case 'seconds': return `≤ ${fmtSeconds(t.value)}`;
    case 'MiB': return `≤ ${t.value} MiB (peak)`;
  }
}

const verdict = (f: PairFigure) => (f.met === undefined ? '—' : f.met ? 'met' : '**missed**');

/** A ratio, marked as a lower bound when the world's median is one. */
function ratioCell(r: number | undefined, world: Stat | undefined): string {
  return r === undefined ? '—' : (world?.bound ? '>' : '') + fmtRatio(r);
}

function cell(st: Stat | undefined, f: PairFigure, range = true): string {
  const c = fmtCell(st, f.unit, false);
  if (!range || st?.min === undefined || st.runs.length < 2) return c;
  return `${c} [${fmtValue(st.min, f.unit)}–${fmtValue(st.max, f.unit)}]`;
}

export function renderWorldMarkdown(w: WorldFigures, runs: number, aptTimeoutSec: number | undefined): string[] {
  const out: string[] = [];
  const commands = w.figures.filter((f) => f.session === 'in-world');
  const apt = w.figures.filter((f) => f.session === 'apt');
  out.push('## In a world over / (issue 11)', '');
  if (w.alarms.length) out.push(...w.alarms.map((a) => `**${esc(a)}**`), '');
  if (w.commit) out.push(`Worlds served by worldos ${w.commit}.`, '');
  if (commands.length) {
    out.push('Each command on the host, and through `worldctl run w -- sh -c ...` (start-up included) in a world made for the run',
      '(`worldctl init --base /` in a throw-away home, `worldctl create w`). **First run**: right after a cache drop; the world\'s',
      `first \`run\` also mounts it. Then up to ${runs} interleaved host/world pairs (the world warm): medians, [min–max]. Ratio: world median /`,
      'host median. Where both read the same files (find, git, sha1sum, python) the world\'s output must equal one the host gave.', '');
    if (w.daemon) out.push(`The world's daemon: \`${w.daemon}\``, '');
    out.push('| command | host | world | world/host | first run: host | world | world/host | target | |', '|---|---:|---:|---:|---:|---:|---:|---|---|');
    for (const f of commands) {
      out.push(f.unit === 'MiB'
        ? `| ${esc(f.label)} | | ${cell(f.world, f)} | | | | | ${fmtTarget(f.target)} | ${verdict(f)} |`
        : `| ${esc(f.label)} | ${cell(f.ref, f)} | ${cell(f.world, f)} | ${ratioCell(f.ratio, f.world)} | ${cell(f.refFirst, f, false)} | ${cell(f.worldFirst, f, false)} | ${ratioCell(f.firstRatio, f.worldFirst)} | ${fmtTarget(f.target)} | ${verdict(f)} |`);
    }
    out.push('');
  }
  if (apt.length) {
    out.push(`\`apt-get install\` of a small package from a local .deb (\`apt-get download\` once: no network in the timing), each run in a fresh`,
      'world (created, mounted and started untimed; deleted afterwards) and in a fresh kernel-overlayfs chroot of / (lower /, proc, sys,',
      `dev and dev/pts bound in, in a private mount namespace), then the installed program is run. Deadline ${aptTimeoutSec ?? '?'} s per install.`,
      'After every run the host\'s /var/lib/dpkg/status must be unchanged.', '');
    out.push('| | overlayfs chroot | world | world/chroot | target | |', '|---|---:|---:|---:|---|---|');
    for (const f of apt) {
      out.push(f.unit === 'MiB'
        ? `| ${esc(f.label)} | | ${cell(f.world, f)} | | ${fmtTarget(f.target)} | ${verdict(f)} |`
        : `| ${esc(f.label)} | ${cell(f.ref, f)} | ${cell(f.world, f)} | ${ratioCell(f.ratio, f.world)} | ${fmtTarget(f.target)} | ${verdict(f)} |`);
    }
    out.push('');
  }
  const failures: string[] = [];
  for (const f of w.figures) {
    for (const [side, st] of [['reference', f.ref], ['world', f.world], ['first run, reference', f.refFirst], ['first run, world', f.worldFirst]] as const) {
      for (const e of new Set(st?.errors ?? [])) failures.push(`- ${f.session}/${f.key}, ${side} (${st!.errors.filter((x) => x === e).length} of ${st!.errors.length + st!.runs.length} runs): ${esc(e)}`);
    }
  }
  if (failures.length) out.push('Failures:', '', ...failures, '');
  return out;
}

/** Terminal lines: one per figure, with its target and verdict. */
export function renderWorldLines(w: WorldFigures): string[] {
  const out = ['[in a world over /: world against the host (apt: against an overlayfs chroot)]'];
  const rows = w.figures.map((f) => [
    `${f.session === 'apt' ? 'apt: ' : ''}${f.label.replace(/`/g, '')}`,
    f.unit === 'MiB' ? '' : fmtCell(f.ref, f.unit, false), fmtCell(f.world, f.unit, false),
    ratioCell(f.ratio, f.world), f.worldFirst ? `first ${ratioCell(f.firstRatio, f.worldFirst)}` : '', fmtTarget(f.target), f.met === undefined ? '—' : f.met ? 'met' : 'MISSED',
  ]);
  const widths = [0, 1, 2, 3, 4, 5].map((i) => Math.max(...rows.map((r) => r[i]!.length)));
  widths[0] = Math.min(widths[0]!, 60);
  for (const r of rows) out.push(r.map((c, i) => (i === 0 ? c.slice(0, widths[0]).padEnd(widths[0]!) : i === 6 ? c : c.padStart(widths[i]!))).join('  '));
  for (const f of w.figures) {
    const errors = [...(f.world?.errors ?? []), ...(f.worldFirst?.errors ?? []), ...(f.ref?.errors ?? [])];
    if (errors.length) out.push(`failed: ${f.session}/${f.key}: ${errors[0]!.slice(0, 200)}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}`);
  }
  for (const a of w.alarms) out.push(`!!! ${a}`);
  return out;
}
