// The daemon's own cost of a lookup, without FUSE: worldfs's WorldFs built by fs/setup.ts over the
// lookup tree (files spread over K layers, every directory in every layer), getattr called in this
// process. CPU µs per call (user + system), best of several passes, with the lower-layer cache
// (default udba=reval,timeout=1) and without it (timeout=0). Needs no root and mounts nothing:
//   npx tsc -p bench/tsconfig.json && node dist/bench/resolve-cost.js [DIRS FILES_PER_DIR]
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toViewPath } from '../src/core/paths.js';
import { parseArgs } from '../fs/options.js';
import { setup } from '../fs/setup.js';

const DEPTHS = [1, 16, 64];
const PASSES = 6;

function buildTree(root: string, layers: number, dirs: number, files: number): string[] {
  const ls = Array.from({ length: layers }, (_, i) => join(root, `l${i}`));
  for (const l of ls) for (let d = 0; d < dirs; d++) mkdirSync(join(l, `d${d}`), { recursive: true });
  let i = 0;
  for (let d = 0; d < dirs; d++) for (let f = 0; f < files; f++, i++) writeFileSync(join(ls[i % layers]!, `d${d}`, `f${f}`), `${d} ${f}\n`);
  return ls;
}

function cpuMicros(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Best CPU µs per call of `pass` (which makes `calls` calls), over PASSES passes after one warm-up. */
function best(pass: () => void, calls: number): number {
  let min = Infinity;
  for (let p = 0; p <= PASSES; p++) {
    const t = cpuMicros();
    pass();
    if (p > 0) min = Math.min(min, (cpuMicros() - t) / calls);
  }
  return min;
}

function measure(root: string, lowers: string[], extra: string, dirs: number, files: number): { hit: number; miss: number } {
  const upper = mkdtempSync(join(root, 'up-'));
  const work = mkdtempSync(join(root, 'work-'));
  const opts = parseArgs(['-f', '-o', `lowerdir=${lowers.join(':')},upperdir=${upper},workdir=${work},whiteout=aufs${extra}`, join(root, 'mnt')]);
  const fs = setup(opts, join(root, 'mnt')).fs; // `mounted`: the mountpoint is never looked at
  const paths: ReturnType<typeof toViewPath>[] = [];
  for (let d = 0; d < dirs; d++) for (let f = 0; f < files; f++) paths.push(toViewPath(`/d${d}/f${f}`));
  const missing = paths.map((p) => toViewPath(p.replace('/f', '/missing')));
  const hit = best(() => { for (const p of paths) fs.getattr(p); }, paths.length);
  const miss = best(() => {
    for (const p of missing) {
      try { fs.getattr(p); } catch { /* ENOENT */ }
    }
  }, missing.length);
  return { hit, miss };
}

function main(): void {
  const dirs = Number(process.argv[2] ?? 20);
  const files = Number(process.argv[3] ?? 50);
  const root = mkdtempSync(join(tmpdir(), 'worldos-resolve-cost-'));
  try {
    process.stdout.write(`getattr in-process, ${dirs * files} files in ${dirs} dirs; CPU µs per call, best of ${PASSES}\n`);
    process.stdout.write('layers   cached: found  missing   uncached (timeout=0): found  missing\n');
    for (const k of DEPTHS) {
      const lowers = buildTree(join(root, `k${k}`), k, dirs, files);
      const c = measure(root, lowers, '', dirs, files);
      const u = measure(root, lowers, ',timeout=0', dirs, files);
      const f = (n: number) => n.toFixed(1).padStart(7);
      process.stdout.write(`${String(k).padStart(6)}   ${f(c.hit)} ${f(c.miss)}   ${' '.repeat(14)}${f(u.hit)} ${f(u.miss)}\n`);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

main();
