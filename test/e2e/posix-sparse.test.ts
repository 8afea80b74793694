// lseek(2) with SEEK_DATA and SEEK_HOLE through a worldfs view: the holes of a sparse file, in the
// top layer or still in a lower one, as the host filesystem has them, so that cp --sparse and
// tar -S skip them. The kernel transport answers LSEEK from the layer file; fuse-native (libfuse
// 2.9 has no LSEEK) leaves it to the kernel, which calls the whole file data. Each row runs on
// worldfs with aufs and overlay whiteouts and on a plain directory (ext4: the oracle).
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { runCases, sh, type Case, type View } from './support/views.js';

const KERNEL = process.env.WORLDFS_TRANSPORT === 'kernel';
const MIB = 1 << 20;
const SIZE = 2 * MIB + 4096;

/** A file of SIZE bytes with 4 KiB of data at 1 MiB and holes around it. */
function makeSparse(path: string): void {
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, MIB);
    ftruncateSync(fd, SIZE);
  } finally {
    closeSync(fd);
  }
}

/** Where SEEK_DATA and SEEK_HOLE land from a few offsets (numbers, or the errno name). */
function seeks(path: string): (number | string)[] {
  const py = [
    'import errno, json, os, sys',
    'fd = os.open(sys.argv[1], os.O_RDONLY)',
    'out = []',
    `for whence, off in [(os.SEEK_DATA, 0), (os.SEEK_HOLE, 0), (os.SEEK_HOLE, ${MIB}), (os.SEEK_DATA, ${MIB + 4096}), (os.SEEK_DATA, ${SIZE})]:`,
    '    try: out.append(os.lseek(fd, off, whence))',
    '    except OSError as e: out.append(errno.errorcode[e.errno])',
    'print(json.dumps(out))',
  ].join('\n');
  const r = sh('python3', ['-I', '-c', py, path]);
  if (r.status !== 0) throw new Error(`python3: ${r.stderr}`);
  return JSON.parse(r.stdout) as (number | string)[];
}

/** What the host's filesystem (ext4) answers; on fuse-native, the kernel's all-data fallback. */
const expected = (v: View) => (v.variant.union && !KERNEL ? [0, SIZE, SIZE, MIB + 4096, 'ENXIO'] : [MIB, 0, MIB + 4096, 'ENXIO', 'ENXIO']);

const cases: Case[] = [
  {
    title: 'a sparse file made through the view shows its holes',
    layers: [{}],
    run(v) {
      makeSparse(v.p('made'));
      expect(seeks(v.p('made'))).toEqual(expected(v));
    },
  },
  {
    title: 'a sparse file of a lower layer shows its holes, and so does its copy after a write elsewhere in it',
    layers: [{ d: {} }],
    run(v) {
      // Made in the layer itself (the plain oracle: in place), before the view looks at it.
      makeSparse(v.variant.union ? join(v.lowers[0]!, 'd', 'low') : v.p('d/low'));
      v.rebaseline();
      expect(seeks(v.p('d/low'))).toEqual(expected(v));
      const fd = openSync(v.p('d/low'), 'r+');
      writeSync(fd, Buffer.from('x'), 0, 1, MIB + 10); // inside the data: the copy must keep the holes
      closeSync(fd);
      expect(seeks(v.p('d/low'))).toEqual(expected(v));
      const data = readFileSync(v.p('d/low'));
      expect([data.length, data[MIB + 9], data[MIB + 10], data[MIB - 1]]).toEqual([SIZE, 0x5a, 0x78, 0]);
    },
  },
];

runCases('SEEK_DATA / SEEK_HOLE', cases, { kernelOpens: true });
