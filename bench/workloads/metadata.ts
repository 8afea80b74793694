// Metadata: create then unlink many small files in a new directory; `rm -rf` of a lower tree
// (every name needs a whiteout); `mv` of a lower directory (a redirect, or a full copy when the
// peer answers EXDEV and mv falls back to copying).
import type { Sizes } from '../sizes.js';
import { fmtCount, q, type Session } from './workload.js';

export function metadataSession(s: Sizes): Session {
  return {
    id: 'metadata', group: 'metadata', title: 'metadata', fixture: 'metadata', writes: 'names',
    figures: [
      { key: 'create', label: `create ${fmtCount(s.createUnlinkFiles)} small files`, unit: 's' },
      { key: 'unlink', label: `unlink those ${fmtCount(s.createUnlinkFiles)} files`, unit: 's' },
      { key: 'rm-rf', label: `rm -rf of a ${fmtCount(s.rmTreeFiles)}-file lower tree`, unit: 's' },
      { key: 'rename', label: `mv of a lower dir of ${fmtCount(s.renameDirFiles)} files`, unit: 's' },
    ],
    phases: [
      {
        keys: ['create', 'unlink'],
        run: async (c) => {
          const r = await c.client('create-unlink', `${c.view.path}/new`, s.createUnlinkFiles);
          return { create: r.create!, unlink: r.unlink! };
        },
      },
      {
        keys: ['rm-rf'],
        run: async (c) => {
          const t = await c.sh(`rm -rf ${q(`${c.view.path}/rmtree`)}`);
          await c.sh(`test ! -e ${q(`${c.view.path}/rmtree`)}`);
          return { 'rm-rf': t };
        },
      },
      {
        keys: ['rename'],
        run: async (c) => {
          const t = await c.sh(`mv ${q(`${c.view.path}/mvdir`)} ${q(`${c.view.path}/moved`)}`);
          await c.sh(`test ! -e ${q(`${c.view.path}/mvdir`)} && test -f ${q(`${c.view.path}/moved/s0/f0`)}`);
          return { rename: t };
        },
      },
    ],
  };
}
