// Copy-up atomicity: the worldfs daemon is killed (SIGKILL) while it copies a 300 MiB lower file up
// for a writer; after the dead mount is detached and the same layers are mounted again, the view
// shows the whole old file or the whole new one, never a partial copy, and the leftovers in the work
// directory are gone. worldfs only: a plain directory has no daemon to kill.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, constants, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { big } from './support/tree.js';
import { runCases, UNION_ONLY, type Case } from './support/views.js';

const MiB = 1 << 20;
const SIZE = 300 * MiB;
const PATCH = 'NEW!';

/** sha256 of a file as it is, and as it would be with PATCH written at offset 0. */
function hashes(path: string): { old: string; patched: string } {
  const old = createHash('sha256');
  const patched = createHash('sha256');
  const buf = Buffer.allocUnsafe(8 * MiB);
  const fd = openSync(path, constants.O_RDONLY | constants.O_NOATIME);
  try {
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      old.update(buf.subarray(0, n));
      if (pos === 0) buf.write(PATCH, 0);
      patched.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return { old: old.digest('hex'), patched: patched.digest('hex') };
}

/** sha256 of a file read through the view. */
function viewHash(path: string): string {
  const h = createHash('sha256');
  const buf = Buffer.allocUnsafe(8 * MiB);
  const fd = openSync(path, 'r');
  try {
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
  return h.digest('hex');
}

/** The work directory's entries with their sizes (host side). */
function workEntries(work: string): { name: string; size: number; file: boolean }[] {
  return readdirSync(work).flatMap((name) => {
    const st = statSync(join(work, name), { throwIfNoEntry: false });
    return st ? [{ name, size: st.size, file: st.isFile() }] : [];
  });
}

const WRITER = `
const fs = require('fs');
const fd = fs.openSync(process.argv[1], 'r+');
fs.writeSync(fd, ${JSON.stringify(PATCH)}, 0);
fs.closeSync(fd);
`;

const cases: Case[] = [
  {
    title: 'a copy-up killed half-way leaves the whole old file, and the next mount sweeps the work directory',
    layers: [{ dir: { huge: big(SIZE, 11) } }],
    only: UNION_ONLY,
    async run(v, env) {
      const expected = hashes(join(v.lowers[0]!, 'dir/huge'));
      const daemon = v.mounted!.proc;
      const writer = env.spawnTracked(process.execPath, ['-e', WRITER, v.p('dir/huge')]);
      const writerDone = new Promise<void>((r) => writer.once('exit', () => r()));

      // Wait (on the host, never through the mount) until the copy is under way in the work dir.
      const deadline = Date.now() + 60_000;
      let partial: { name: string; size: number; file: boolean } | undefined;
      while (!partial && Date.now() < deadline && writer.exitCode === null) {
        partial = workEntries(v.work).find((e) => e.file && e.size > 0 && e.size < SIZE);
        if (!partial) await new Promise((r) => setTimeout(r, 2));
      }
      expect(partial, 'a partial copy in the work directory before the kill').toBeDefined();

      const dead = new Promise<void>((r) => daemon.once('exit', () => r()));
      process.kill(daemon.pid!, 'SIGKILL');
      await dead;
      await writerDone; // its open() fails once the connection is gone
      execFileSync('umount', ['-l', v.root]);
      await v.mounted!.unmount(); // forget the dead mount (nothing left to stop)

      expect(workEntries(v.work).length, 'leftovers of the interrupted copy').toBeGreaterThan(0);
      await v.remount();
      expect(readdirSync(v.work)).toEqual([]);
      expect(statSync(v.p('dir/huge')).size).toBe(SIZE);
      expect([expected.old, expected.patched]).toContain(viewHash(v.p('dir/huge')));
      expect(readdirSync(v.p('dir'))).toEqual(['huge']);
    },
  },
];

runCases('worldfs copy-up atomicity', cases);
