// The host-side trees of the world figures, made on the host before the world exists, so the
// world sees them through its base: a git repository, a C file, a tarball, and one copy of a C
// project per side (each side builds in its own, so neither sees the other's objects).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { cProject } from '../c-project.js';
import type { InWorldSizes } from '../sizes.js';

export type SideName = 'host' | 'world';

/** Where each side writes: `<fx>/out-host`, `<fx>/out-world`. */
export const outDir = (fx: string, side: SideName): string => join(fx, `out-${side}`);

export const C_FILE = `#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct word { char text[64]; int count; };

static int by_count(const void *a, const void *b) {
  return ((const struct word *)b)->count - ((const struct word *)a)->count;
}

int main(int argc, char **argv) {
  struct word *words = calloc(256, sizeof *words);
  int n = 0;
  for (int i = 1; i < argc && n < 256; i++) {
    int j = 0;
    while (j < n && strcmp(words[j].text, argv[i]) != 0) j++;
    if (j == n) { strncpy(words[n].text, argv[i], sizeof words[n].text - 1); n++; }
    words[j].count++;
  }
  qsort(words, (size_t)n, sizeof *words, by_count);
  for (int i = 0; i < n; i++) printf("%s %d\\n", words[i].text, words[i].count);
  free(words);
  return 0;
}
`;

/** Build every tree under `fx` (an empty directory). Synchronous: runs once, before any timing. */
export function buildInWorldFixtures(fx: string, s: InWorldSizes): void {
  buildRepo(join(fx, 'repo'), s.repoFiles);
  writeFileSync(join(fx, 'p.c'), C_FILE);
  execFileSync('tar', ['-cf', join(fx, 'src.tar'), '-C', dirname(s.tarSource), basename(s.tarSource)]);
  for (const side of ['host', 'world'] as const) {
    const proj = join(outDir(fx, side), 'proj');
    mkdirSync(proj, { recursive: true });
    for (const [name, text] of cProject(s.cModules)) writeFileSync(join(proj, name), text);
  }
  execFileSync('sync');
}

/** A committed repository of `files` small files, 100 to a directory. */
function buildRepo(dir: string, files: number): void {
  for (let i = 0; i < files; i++) {
    const d = join(dir, `d${Math.floor(i / 100)}`);
    if (i % 100 === 0) mkdirSync(d, { recursive: true });
    writeFileSync(join(d, `f${i}.txt`), `line ${i}\n`);
  }
  const git = (...args: string[]) => execFileSync('git', ['-C', dir, ...args], { stdio: 'ignore' });
  git('init', '-q');
  git('add', '-A');
  git('-c', 'user.name=bench', '-c', 'user.email=bench@localhost', 'commit', '-q', '-m', 'files');
  // The host's own first status refreshes the index once, so later runs on either side start equal.
  git('status', '--porcelain');
}
