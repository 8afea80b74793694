// Data: random 4 KiB reads of a lower file (cold), sequential read of another lower file with
// `dd bs=1M` cold and warm; sequential write of a new file, then a rewrite of it in place
// (no fsync: the time for the data to reach the upper layer's page cache through the view).
import type { Sizes } from '../sizes.js';
import { fmtCount, q, type Session } from './workload.js';

export function dataSession(s: Sizes): Session {
  const read = (path: string) => `dd if=${q(path)} of=/dev/null bs=1M status=none`;
  const write = (path: string, extra: string) => `dd if=/dev/zero of=${q(path)} bs=1M count=${s.seqMiB} status=none ${extra}`;
  return {
    id: 'data', group: 'data', title: 'reading and writing data', fixture: 'data', writes: 'names',
    figures: [
      { key: 'rand', label: `${fmtCount(s.randReads)} random 4 KiB reads, cold`, unit: 's' },
      { key: 'seq-cold', label: `sequential read ${s.seqMiB} MiB, cold`, unit: 's' },
      { key: 'seq-warm', label: `sequential read ${s.seqMiB} MiB, warm`, unit: 's' },
      { key: 'write-new', label: `sequential write ${s.seqMiB} MiB, new file`, unit: 's' },
      { key: 'rewrite', label: `sequential rewrite ${s.seqMiB} MiB in place`, unit: 's' },
    ],
    phases: [
      { keys: ['rand'], run: async (c) => ({ rand: (await c.client('randread', `${c.view.path}/rand`, s.randReads, 42)).seconds! }) },
      { keys: ['seq-cold'], run: async (c) => ({ 'seq-cold': await c.sh(read(`${c.view.path}/seq`)) }) },
      { keys: ['seq-warm'], run: async (c) => ({ 'seq-warm': await c.sh(read(`${c.view.path}/seq`)) }) },
      { keys: ['write-new'], run: async (c) => ({ 'write-new': await c.sh(write(`${c.view.path}/out`, '')) }) },
      { keys: ['rewrite'], run: async (c) => ({ rewrite: await c.sh(write(`${c.view.path}/out`, 'conv=notrunc')) }) },
    ],
  };
}
