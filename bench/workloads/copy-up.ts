// Copy-up: the first change to lower files. A 4 KiB write into a big file (the whole file is
// copied), the longest lookup of another process while a second big file is copied up, a one-byte write to each of many small files, chmod of many files (metadata only where
// the peer supports it), and a 4 KiB append to a sparse file, with the blocks its upper copy uses.
import type { Sizes } from '../sizes.js';
import { fmtCount, type Session } from './workload.js';

export function copyUpSession(s: Sizes): Session {
  return {
    id: 'copy-up', group: 'copy-up', title: 'copy-up of lower files', fixture: 'copy-up', writes: 'files',
    figures: [
      { key: 'big', label: `first write to a ${s.copyUpBigMiB} MiB lower file`, unit: 's' },
      { key: 'during', label: `longest lookup by another process during a ${s.copyUpBigMiB} MiB copy-up`, unit: 's' },
      { key: 'small', label: `first write to ${fmtCount(s.copyUpSmallFiles)} small lower files`, unit: 's' },
      { key: 'chmod', label: `chmod of ${fmtCount(s.chmodFiles)} lower files`, unit: 's' },
      { key: 'sparse', label: `append 4 KiB to a ${s.sparseMiB} MiB sparse lower file`, unit: 's' },
      { key: 'sparse-upper', label: `upper KiB after that append (data: 132 KiB)`, unit: 'KiB' },
    ],
    phases: [
      { keys: ['big'], run: async (c) => ({ big: (await c.client('first-write', `${c.view.path}/big`)).seconds! }) },
      {
        keys: ['during'],
        run: async (c) => ({ during: (await c.client('lookups-during-copy-up', `${c.view.path}/big2`, c.view.path)).longestLookup! }),
      },
      {
        keys: ['small'],
        run: async (c) => ({ small: (await c.client('write-each', `${c.view.path}/small`, 's', s.copyUpSmallFiles)).seconds! }),
      },
      {
        keys: ['chmod'],
        run: async (c) => ({ chmod: (await c.client('chmod-each', `${c.view.path}/modes`, 'm', s.chmodFiles)).seconds! }),
      },
      {
        keys: ['sparse', 'sparse-upper'],
        run: async (c) => {
          const r = await c.client('append', `${c.view.path}/sparse`, `${c.view.upper}/sparse`);
          return { sparse: r.seconds!, 'sparse-upper': r.upperKiB! };
        },
      },
    ],
  };
}
