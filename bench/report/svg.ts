// The chart, as a hand-written SVG (no dependencies): on top, lookup time against the number of
// layers for each peer (walk cold, walk warm, negative lookups); below, every timed figure's
// ratio to ext4 on a log scale, one marker per peer; then, when the run has them, the world
// figures' ratios (world / host, world / overlayfs chroot). Pure: a function of the result document.
import type { PeerId } from '../options.js';
import type { ResultDoc } from '../results.js';
import type { Scaling } from '../stats.js';
import { RATIO_TARGET } from '../workloads/in-world.js';
import { fmtRatio, fmtSeconds } from './format.js';

export const PEER_COLOURS: Record<PeerId, string> = {
  ext4: '#555555', overlayfs: '#1f77b4', 'fuse-overlayfs': '#ff7f0e', 'unionfs-fuse': '#2ca02c', worldfs: '#d62728',
  'worldfs-kernel': '#9467bd',
};

const W = 980;
const FONT = 'font-family="sans-serif"';
const x = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export function renderSvg(doc: ResultDoc): string {
  const parts: string[] = [];
  const peers = doc.peers.filter((p) => !p.unavailable).map((p) => p.id);
  let y = 10;
  parts.push(text(10, y + 14, `worldos bench, ${doc.mode} run ${doc.date.slice(0, 16).replace('T', ' ')} UTC: ${doc.machine.cpuModel}, ${doc.machine.cores} cores, kernel ${doc.machine.kernel}, Node ${doc.machine.node}`, 13, 'bold'));
  y += 26;
  parts.push(legend(10, y, peers));
  y += 24;

  const metrics = ['walk-cold', 'walk-warm', 'negative'];
  const titles: Record<string, string> = { 'walk-cold': 'stat walk, cold', 'walk-warm': 'stat walk, warm', negative: 'negative lookups' };
  const pw = (W - 40) / metrics.length;
  if (doc.depth.length) {
    metrics.forEach((m, i) => {
      parts.push(depthChart(10 + i * pw, y, pw - 20, 220, `${titles[m]} vs layers`, doc.depth.filter((d) => d.metric === m), doc.sizes.depths));
    });
    y += 250;
  }

  const rows = doc.figures.filter((f) => f.unit === 's' && f.group !== 'worlds' && f.byPeer.ext4?.median !== undefined);
  if (rows.length) {
    parts.push(ratioChart(10, y, W - 20, 'median / ext4 median, same run (log scale; 1x = as fast as plain ext4; hollow: a lower bound)', rows.map((f) => ({
      label: f.label,
      ratios: peers.filter((p) => p !== 'ext4').map((p) => [p, PEER_COLOURS[p], f.byPeer[p]?.vsExt4, f.byPeer[p]?.bound === true] as const),
    }))));
    y += 40 + rows.length * 16 + 30;
  }
  const world = (doc.world?.figures ?? []).filter((f) => f.unit === 's' && f.target.kind === 'ratio');
  if (world.length) {
    parts.push(ratioChart(10, y, W - 20, `in a world over /: world median / host median (apt: / overlayfs chroot); red warm, purple first run; target ${RATIO_TARGET}x (dashed)`, world.map((f) => ({
      label: `${f.session === 'apt' ? 'apt: ' : ''}${f.label.replace(/`/g, '')}`,
      ratios: [['warm', WARM, f.ratio, f.world?.bound === true], ['first run', FIRST, f.firstRatio, f.worldFirst?.bound === true]] as const,
    })), RATIO_TARGET));
    y += 40 + world.length * 16 + 30;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}

function text(tx: number, ty: number, s: string, size = 11, weight = 'normal', anchor = 'start', fill = '#222'): string {
  return `<text x="${tx.toFixed(1)}" y="${ty.toFixed(1)}" ${FONT} font-size="${size}" font-weight="${weight}" text-anchor="${anchor}" fill="${fill}">${x(s)}</text>`;
}

function legend(lx: number, ly: number, peers: readonly PeerId[]): string {
  let cx = lx;
  const out: string[] = [];
  for (const p of peers) {
    out.push(`<rect x="${cx}" y="${ly}" width="12" height="12" fill="${PEER_COLOURS[p]}"/>`, text(cx + 16, ly + 10, p, 12));
    cx += 30 + p.length * 7;
  }
  return out.join('\n');
}

/** Round up to 1, 2 or 5 times a power of ten. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function depthChart(cx: number, cy: number, w: number, h: number, title: string, series: readonly Scaling[], xs: readonly number[]): string {
  const out: string[] = [text(cx + w / 2, cy + 12, title, 12, 'bold', 'middle')];
  const left = cx + 50;
  const top = cy + 22;
  const pw = w - 60;
  const ph = h - 50;
  const ymax = niceMax(Math.max(0, ...series.flatMap((s) => s.points.map(([, v]) => v))) * 1.05);
  const px = (i: number) => left + (xs.length === 1 ? pw / 2 : (i / (xs.length - 1)) * pw);
  const py = (v: number) => top + ph - (v / ymax) * ph;
  for (let t = 0; t <= 4; t++) {
    const v = (ymax * t) / 4;
    out.push(`<line x1="${left}" y1="${py(v)}" x2="${left + pw}" y2="${py(v)}" stroke="#ddd"/>`, text(left - 4, py(v) + 4, fmtSeconds(v), 10, 'normal', 'end'));
  }
  xs.forEach((k, i) => out.push(text(px(i), top + ph + 14, `${k}`, 10, 'normal', 'middle')));
  out.push(text(left + pw / 2, top + ph + 28, 'layers', 10, 'normal', 'middle', '#666'));
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + ph}" stroke="#888"/>`, `<line x1="${left}" y1="${top + ph}" x2="${left + pw}" y2="${top + ph}" stroke="#888"/>`);
  for (const s of series) {
    const pts = s.points.map(([k, v, bound]) => [px(xs.indexOf(k)), py(v), bound] as const);
    const c = PEER_COLOURS[s.peer];
    out.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' ')}"/>`);
    // A lower bound (the runs hit the deadline): a hollow marker with an arrow up.
    for (const [a, b, bound] of pts) {
      out.push(bound
        ? `<circle cx="${a.toFixed(1)}" cy="${b.toFixed(1)}" r="4" fill="white" stroke="${c}" stroke-width="2"/>${text(a, b - 7, '↑', 11, 'bold', 'middle', c)}`
        : `<circle cx="${a.toFixed(1)}" cy="${b.toFixed(1)}" r="3" fill="${c}"/>`);
    }
  }
  if (series.length === 0) out.push(text(left + pw / 2, top + ph / 2, 'no data', 11, 'normal', 'middle', '#999'));
  return out.join('\n');
}

const WARM = '#d62728';
const FIRST = '#9467bd';

interface RatioRow {
  readonly label: string;
  /** series name, colour, ratio, the ratio is a lower bound */
  readonly ratios: readonly (readonly [string, string, number | undefined, boolean])[];
}

/** Rows of ratios on a log scale; `mark`: a dashed line at a target ratio. */
function ratioChart(cx: number, cy: number, w: number, title: string, rows: readonly RatioRow[], mark?: number): string {
  const out: string[] = [text(cx, cy + 14, title, 12, 'bold')];
  const labelW = 330;
  const left = cx + labelW;
  const pw = w - labelW - 20;
  const top = cy + 36;
  const all = rows.flatMap((r) => r.ratios.map(([, , v]) => v)).filter((v): v is number => v !== undefined && v > 0);
  const lo = Math.min(0.5, ...all);
  const hi = Math.max(2, ...all) * 1.2;
  const lx = (v: number) => left + ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * pw;
  const bottom = top + rows.length * 16;
  for (const t of [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]) {
    if (t < lo || t > hi) continue;
    out.push(`<line x1="${lx(t).toFixed(1)}" y1="${top - 6}" x2="${lx(t).toFixed(1)}" y2="${bottom}" stroke="${t === 1 ? '#333' : '#ddd'}"/>`);
    out.push(text(lx(t), top - 10, `${t}x`, 10, 'normal', 'middle', '#444'));
  }
  if (mark !== undefined && mark >= lo && mark <= hi) {
    out.push(`<line x1="${lx(mark).toFixed(1)}" y1="${top - 6}" x2="${lx(mark).toFixed(1)}" y2="${bottom}" stroke="#2ca02c" stroke-dasharray="4 3"/>`);
  }
  rows.forEach((r, i) => {
    const ry = top + i * 16 + 8;
    if (i % 2 === 0) out.push(`<rect x="${cx}" y="${ry - 8}" width="${w}" height="16" fill="#f6f6f6"/>`);
    out.push(text(left - 8, ry + 4, r.label.length > 52 ? r.label.slice(0, 51) + '…' : r.label, 10, 'normal', 'end'));
    for (const [p, colour, v, bound] of r.ratios) {
      if (v === undefined || !(v > 0)) continue;
      const fill = bound ? `fill="white" stroke="${colour}" stroke-width="2"` : `fill="${colour}" fill-opacity="0.85"`;
      out.push(`<circle cx="${lx(v).toFixed(1)}" cy="${ry}" r="4" ${fill}><title>${x(`${p}: ${bound ? '>' : ''}${fmtRatio(v)}`)}</title></circle>`);
    }
  });
  return out.join('\n');
}
