// The terminal table: one row per figure, the median of each peer, and worldfs's ratios to ext4
// and to fuse-overlayfs. "n/a": the peer could not run here; FAIL: every run failed; *: some did.
import type { PeerId } from '../options.js';
import type { ResultDoc } from '../results.js';
import { renderWorldLines } from './world.js';
import { CELL_LEGEND, fmtCell, fmtRatio, fmtStatRatio } from './format.js';

const SHORT: Record<PeerId, string> = {
  ext4: 'ext4', overlayfs: 'overlayfs', 'fuse-overlayfs': 'fuse-ovl', 'unionfs-fuse': 'unionfs', worldfs: 'worldfs',
  'worldfs-kernel': 'wfs-kern',
};

export function renderTable(doc: ResultDoc): string {
  const peers = doc.peers;
  const head = ['figure (median)', ...peers.map((p) => SHORT[p.id]), 'wfs/ext4', 'wfs/f-ovl'];
  const rows: string[][] = [];
  let group = '';
  for (const f of doc.figures) {
    if (f.group !== group) {
      group = f.group;
      rows.push([`[${group}]`]);
    }
    const w = f.byPeer.worldfs;
    rows.push([
      f.label,
      ...peers.map((p) => fmtCell(f.byPeer[p.id], f.unit, p.unavailable !== undefined && f.group !== 'worlds')),
      f.unit === 'KiB' ? '' : fmtStatRatio(w, 'vsExt4'), fmtStatRatio(w, 'vsFuseOverlayfs'),
    ]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.filter((r) => r.length > 1).map((r) => (r[i] ?? '').length)));
  widths[0] = Math.min(widths[0]!, 52);
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.slice(0, widths[0]).padEnd(widths[0]!) : c.padStart(widths[i]!))).join('  ');
  const out = doc.figures.length ? [line(head), widths.map((w) => '-'.repeat(w)).join('  ')] : [];
  for (const r of rows) out.push(r.length === 1 ? r[0]! : line(r));
  for (const p of peers) if (p.unavailable) out.push(`n/a ${p.id}: ${p.unavailable}`);
  const failures = new Map<string, string>();
  for (const f of doc.figures) {
    for (const [peer, st] of Object.entries(f.byPeer)) for (const e of st?.errors ?? []) if (!failures.has(`${peer} ${e}`)) failures.set(`${peer} ${e}`, `${f.key} on ${peer}: ${e}`);
  }
  for (const line of [...failures.values()].slice(0, 10)) out.push(`failed: ${line.slice(0, 200)}`);
  if (failures.size > 10) out.push(`... and ${failures.size - 10} more failures (see the Markdown report)`);
  out.push(CELL_LEGEND);
  const lines: string[] = [];
  for (const d of doc.depth) {
    if (d.metric !== 'walk-warm' || d.growth === undefined) continue;
    lines.push(`${SHORT[d.peer]} ${d.bound ? '>' : ''}${fmtRatio(d.growth)}`);
  }
  if (lines.length) out.push(`depth (warm walk, ${doc.sizes.depths[doc.sizes.depths.length - 1]} layers / 1 layer): ${lines.join(', ')}`);
  if (doc.world) out.push(...renderWorldLines(doc.world));
  return out.join('\n');
}
