// A real job inside the view: unpack a tarball of /usr/include (read from a lower layer), then
// build a small C project that lives in a lower layer (objects and the program land in the upper).
import type { Sizes } from '../sizes.js';
import { q, type Session } from './workload.js';

export function jobSession(s: Sizes): Session {
  return {
    id: 'job', group: 'job', title: 'a real job', fixture: 'job', writes: 'names',
    figures: [
      { key: 'untar', label: `tar -x of ${s.tarballSource}`, unit: 's' },
      { key: 'make', label: `make -j2 of a ${s.cModules + 1}-file C project`, unit: 's' },
    ],
    phases: [
      {
        keys: ['untar'],
        run: async (c) => ({ untar: await c.sh(`mkdir ${q(`${c.view.path}/unpacked`)} && tar -xf ${q(`${c.view.path}/src/src.tar`)} -C ${q(`${c.view.path}/unpacked`)}`) }),
      },
      {
        keys: ['make'],
        run: async (c) => {
          const t = await c.sh(`make -s -j2 -C ${q(`${c.view.path}/proj`)}`);
          await c.sh(`${q(`${c.view.path}/proj/prog`)} > /dev/null`); // the build works
          return { make: t };
        },
      },
    ],
  };
}
