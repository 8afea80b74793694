// The layer trees every peer works on, built once per run under <root>/f and never written again
// (each mount gets its own upper). No tree holds a whiteout or an opaque marker, so every peer reads
// the same layers the same way. Deterministic: file names and contents depend only on the sizes.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, ftruncateSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cProject } from './c-project.js';
import { type Sizes } from './sizes.js';

export type FixtureId = string;

/** Layer directories of each fixture, highest priority first. */
export type Fixtures = ReadonlyMap<FixtureId, readonly string[]>;

export const depthFixture = (k: number): FixtureId => `depth-${k}`;
export const worldBase = (files: number): FixtureId => `base-${files}`;

const MiB = 1 << 20;

/** Build the fixtures `wanted` needs (all when undefined) under `dir`. */
export function buildFixtures(dir: string, s: Sizes, wanted: ReadonlySet<FixtureId>): Fixtures {
  const out = new Map<FixtureId, string[]>();
  const want = (id: FixtureId) => wanted.has(id);
  const layers = (short: string, n: number): string[] => {
    const ls = Array.from({ length: n }, (_, i) => join(dir, short, String(i)));
    for (const l of ls) mkdirSync(l, { recursive: true });
    return ls;
  };
  for (const k of s.depths) {
    if (want(depthFixture(k))) out.set(depthFixture(k), buildDepth(layers(`d${k}`, k), s));
  }
  if (want('readdir')) out.set('readdir', buildReaddir(layers('rd', s.readdirLayers), s));
  if (want('copy-up')) out.set('copy-up', buildCopyUp(layers('cu', 1), s));
  if (want('data')) out.set('data', buildData(layers('da', 1), s));
  if (want('empty')) out.set('empty', layers('em', 1));
  if (want('metadata')) out.set('metadata', buildMetadata(layers('me', 1), s));
  if (want('job')) out.set('job', buildJob(layers('jb', 1), s));
  for (const n of s.worldParentFiles) {
    if (want(worldBase(n))) out.set(worldBase(n), buildWorldBase(layers(`wb${n}`, 1), n));
  }
  execFileSync('sync');
  return out;
}

/** The lookup tree: dirs d0.. of files f0..; file i lives in layer i % k, every dir in every layer. */
function buildDepth(ls: string[], s: Sizes): string[] {
  for (const l of ls) for (let d = 0; d < s.walkDirs; d++) mkdirSync(join(l, `d${d}`));
  let i = 0;
  for (let d = 0; d < s.walkDirs; d++) {
    for (let f = 0; f < s.walkFilesPerDir; f++, i++) writeFileSync(join(ls[i % ls.length]!, `d${d}`, `f${f}`), `${d} ${f}\n`);
  }
  return ls;
}

/** One directory `big` of readdirEntries names: each layer owns a share and repeats a tenth of the next. */
function buildReaddir(ls: string[], s: Sizes): string[] {
  const per = Math.ceil(s.readdirEntries / ls.length);
  for (const [j, l] of ls.entries()) {
    mkdirSync(join(l, 'big'));
    const first = j * per;
    const last = Math.min(s.readdirEntries, first + per);
    for (let n = first; n < last; n++) writeFileSync(join(l, 'big', `e${n}`), '');
    if (j + 1 < ls.length) {
      // Shadow some of the next layer's names, so the merge has duplicates to drop.
      for (let n = last; n < Math.min(s.readdirEntries, last + Math.floor(per / 10)); n++) writeFileSync(join(l, 'big', `e${n}`), 'shadow');
    }
  }
  return ls;
}

function buildCopyUp([l]: string[], s: Sizes): string[] {
  writeDataFile(join(l!, 'big'), s.copyUpBigMiB);
  writeDataFile(join(l!, 'big2'), s.copyUpBigMiB); // copied up while another process looks names up
  mkdirSync(join(l!, 'small'));
  for (let i = 0; i < s.copyUpSmallFiles; i++) writeFileSync(join(l!, 'small', `s${i}`), `small file ${i}\n`.repeat(64));
  mkdirSync(join(l!, 'modes'));
  for (let i = 0; i < s.chmodFiles; i++) writeFileSync(join(l!, 'modes', `m${i}`), `mode file ${i}\n`.repeat(64), { mode: 0o644 });
  // A sparse file: sparseMiB long, 64 KiB of data at the start and 64 KiB in the middle.
  const fd = openSync(join(l!, 'sparse'), 'w');
  ftruncateSync(fd, s.sparseMiB * MiB);
  const chunk = Buffer.alloc(64 << 10, 0x5a);
  writeSync(fd, chunk, 0, chunk.length, 0);
  writeSync(fd, chunk, 0, chunk.length, Math.floor(s.sparseMiB / 2) * MiB);
  closeSync(fd);
  return [l!];
}

function buildData([l]: string[], s: Sizes): string[] {
  writeDataFile(join(l!, 'seq'), s.seqMiB);
  writeDataFile(join(l!, 'rand'), s.randFileMiB);
  return [l!];
}

function buildMetadata([l]: string[], s: Sizes): string[] {
  writeTree(join(l!, 'rmtree'), s.rmTreeFiles, 100);
  writeTree(join(l!, 'mvdir'), s.renameDirFiles, 10);
  return [l!];
}

function buildJob([l]: string[], s: Sizes): string[] {
  mkdirSync(join(l!, 'src'));
  execFileSync('tar', ['-cf', join(l!, 'src', 'src.tar'), '-C', dirname(s.tarballSource), basename(s.tarballSource)]);
  mkdirSync(join(l!, 'proj'));
  for (const [name, text] of cProject(s.cModules)) writeFileSync(join(l!, 'proj', name), text);
  return [l!];
}

/** A base directory for worldctl of `files` empty files (no data blocks: only the count matters). */
function buildWorldBase([l]: string[], files: number): string[] {
  writeTree(l!, files, Math.max(1, Math.ceil(files / 1000)), '');
  return [l!];
}

/** `files` small files spread over `dirs` subdirectories s0... */
function writeTree(root: string, files: number, dirs: number, content?: string): void {
  mkdirSync(root, { recursive: true });
  for (let d = 0; d < dirs; d++) mkdirSync(join(root, `s${d}`), { recursive: true });
  for (let i = 0; i < files; i++) writeFileSync(join(root, `s${i % dirs}`, `f${i}`), content ?? `file ${i}\n`);
}

/** A file of `mib` MiB of incompressible data with no zero block (copy-up may skip zero blocks). */
function writeDataFile(path: string, mib: number): void {
  const block = randomBytes(MiB);
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < mib; i++) {
      block.writeUInt32LE(i, 0);
      writeSync(fd, block, 0, MiB, i * MiB);
    }
  } finally {
    closeSync(fd);
  }
}
