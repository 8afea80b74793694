// Lookup: `find -exec stat` over every file of the tree, cold (fresh mount, caches dropped) and
// warm (again, same mount), then stat() of names that exist nowhere (negative lookups). The same
// files are spread over 1, 4, 16 and 64 layers: a union should not get slower with depth.
import { depthFixture } from '../fixtures.js';
import { walkFiles, type Sizes } from '../sizes.js';
import { fmtCount, q, type Session } from './workload.js';

export const lookupSessionId = (layers: number): string => `lookup-${layers}`;

export function lookupSessions(s: Sizes): Session[] {
  const files = fmtCount(walkFiles(s));
  return s.depths.map((k): Session => {
    const walk = (path: string) => `find ${q(path)} -exec stat -c %s {} + > /dev/null`;
    return {
      id: lookupSessionId(k), group: 'lookup', title: `lookup: ${files} files over ${k} layer${k === 1 ? '' : 's'}`,
      fixture: depthFixture(k), writes: 'none',
      figures: [
        { key: 'walk-cold', label: `stat walk ${files} files, ${k}L, cold`, unit: 's' },
        { key: 'walk-warm', label: `stat walk ${files} files, ${k}L, warm`, unit: 's' },
        { key: 'negative', label: `${fmtCount(s.negativeLookups)} negative lookups, ${k}L`, unit: 's' },
      ],
      phases: [
        { keys: ['walk-cold'], run: async (c) => ({ 'walk-cold': await c.sh(walk(c.view.path)) }) },
        { keys: ['walk-warm'], run: async (c) => ({ 'walk-warm': await c.sh(walk(c.view.path)) }) },
        {
          keys: ['negative'],
          run: async (c) => ({ negative: (await c.client('negative', c.view.path, s.walkDirs, s.negativeLookups)).seconds! }),
        },
      ],
    };
  });
}
