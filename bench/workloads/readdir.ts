// readdir: `ls -U -A` (getdents only, no stat) of one directory whose entries come from several
// layers, some names shadowed by a higher layer; cold, then warm. The count is checked.
import type { Sizes } from '../sizes.js';
import { fmtCount, q, type PhaseCtx, type Session } from './workload.js';

export function readdirSession(s: Sizes): Session {
  const list = async (c: PhaseCtx): Promise<number> => {
    // -U: no sorting, -A: no . and .. (worldfs does not list them); no stat() without a tty.
    const r = await c.shOut(`ls -U -A ${q(`${c.view.path}/big`)} | wc -l`);
    const n = Number(r.stdout.trim());
    if (n !== s.readdirEntries) throw new Error(`listed ${n} entries, expected ${s.readdirEntries}`);
    return r.seconds;
  };
  const what = `readdir ${fmtCount(s.readdirEntries)} entries from ${s.readdirLayers} layers`;
  return {
    id: 'readdir', group: 'readdir', title: what, fixture: 'readdir', writes: 'none',
    figures: [
      { key: 'cold', label: `${what}, cold`, unit: 's' },
      { key: 'warm', label: `${what}, warm`, unit: 's' },
    ],
    phases: [
      { keys: ['cold'], run: async (c) => ({ cold: await list(c) }) },
      { keys: ['warm'], run: async (c) => ({ warm: await list(c) }) },
    ],
  };
}
