// What the view's st_ino (src/host/inode-origin.ts) costs getattr, in-process like resolve-cost.ts:
// each pass times today's getattr and, right after it, the old one (host number: resolve + lstat),
// on lower files, on copied-up files (their origin is checked) and on renamed copies (the origin's
// place is walked too). CPU µs per call, best of the passes; no root, nothing mounted:
//   npx tsc -p bench/tsconfig.json && node dist/bench/inode-cost.js [timeout=0]
import { lstatSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toViewPath, type ViewPath } from '../src/core/paths.js';
import { isMerged } from '../src/core/resolve.js';
import { parseArgs } from '../fs/options.js';
import { setup } from '../fs/setup.js';
import { toAttr } from '../fs/union/attr.js';

const PASSES = 30;
const DIRS = 20;
const FILES = 50;

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function main(): void {
  const extra = process.argv[2] ? `,${process.argv[2]}` : '';
  const root = mkdtempSync(join(tmpdir(), 'worldos-inode-cost-'));
  try {
    const lower = join(root, 'l0');
    for (let d = 0; d < DIRS; d++) {
      mkdirSync(join(lower, `d${d}`), { recursive: true });
      for (let f = 0; f < FILES; f++) writeFileSync(join(lower, `d${d}`, `f${f}`), 'x');
    }
    const upper = mkdtempSync(join(root, 'up-'));
    const work = mkdtempSync(join(root, 'work-'));
    const opts = parseArgs(['-f', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work},whiteout=aufs${extra}`, join(root, 'mnt')]);
    const fs = setup(opts, join(root, 'mnt')).fs; // the mountpoint is never looked at
    const u = fs.union;
    const oldGetattr = (p: ViewPath) => {
      const node = u.existing(p);
      return toAttr(lstatSync(u.hostPath(node), { bigint: true }), node.entry.kind === 'dir' && isMerged(node));
    };
    const run = (label: string, paths: readonly ViewPath[]) => {
      let now = Infinity;
      let old = Infinity;
      for (let pass = 0; pass < PASSES; pass++) {
        let t = cpuMicros();
        for (const p of paths) fs.getattr(p);
        now = Math.min(now, (cpuMicros() - t) / paths.length);
        t = cpuMicros();
        for (const p of paths) oldGetattr(p);
        old = Math.min(old, (cpuMicros() - t) / paths.length);
      }
      process.stdout.write(`${label.padEnd(40)} ${old.toFixed(1).padStart(6)} ${now.toFixed(1).padStart(6)} ${(now - old).toFixed(1).padStart(6)}\n`);
    };
    const paths: ViewPath[] = [];
    for (let d = 0; d < DIRS; d++) for (let f = 0; f < FILES; f++) paths.push(toViewPath(`/d${d}/f${f}`));
    process.stdout.write(`getattr in-process${extra ? ` (${extra.slice(1)})` : ''}; CPU µs per call, best of ${PASSES}\n`);
    process.stdout.write(`${'objects'.padEnd(40)}    old    now  added\n`);
    run(`lower files (${paths.length})`, paths);
    const copies = paths.filter((_, i) => i % 2 === 0);
    for (const p of copies) u.copyUp(u.existing(p));
    run(`copied-up files (${copies.length})`, copies);
    const renamed = copies.slice(0, 40).map((p) => {
      const to = toViewPath(`${p}.moved`);
      fs.rename(p, to);
      return to;
    });
    run(`renamed copies (${renamed.length})`, renamed);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main();
