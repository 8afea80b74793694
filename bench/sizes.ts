// How big each workload is, for the default run and for --quick. Pure data: the fixtures and the
// workloads read these numbers and nothing else, so one table scales the whole suite.

export interface Sizes {
  /** Lookup tree: `dirs` directories of `filesPerDir` files (10,000 in the full run). */
  readonly walkDirs: number;
  readonly walkFilesPerDir: number;
  /** Layer counts the lookup tree is spread over (the first must be 1). */
  readonly depths: readonly number[];
  /** stat() of names that exist nowhere. */
  readonly negativeLookups: number;
  /** One directory of this many entries, merged from `readdirLayers` layers. */
  readonly readdirEntries: number;
  readonly readdirLayers: number;
  readonly copyUpBigMiB: number;
  readonly copyUpSmallFiles: number;
  readonly chmodFiles: number;
  readonly sparseMiB: number;
  readonly seqMiB: number;
  readonly randFileMiB: number;
  readonly randReads: number;
  readonly createUnlinkFiles: number;
  readonly rmTreeFiles: number;
  readonly renameDirFiles: number;
  /** What the tarball is made of: a directory under /usr/include, or all of it. */
  readonly tarballSource: string;
  readonly cModules: number;
  /** Parent sizes for `worldctl create` (files in the base). */
  readonly worldParentFiles: readonly number[];
  /** Changed files for `worldctl merge`. */
  readonly mergeChanges: readonly number[];
  /** Everyday commands on the host and in a world over / (workloads/in-world.ts). */
  readonly inWorld: InWorldSizes;
}

export interface InWorldSizes {
  /** What `find ... -printf x` walks (a shell word: may be a glob). */
  readonly findDir: string;
  /** Files in the git repository `git status` looks at. */
  readonly repoFiles: number;
  /** What `sha1sum` reads (a shell glob). */
  readonly sha1Glob: string;
  /** The tree whose tarball is unpacked into the world's /tmp. */
  readonly tarSource: string;
  /** C files of the project `make -j2` builds (plus main.c). */
  readonly cModules: number;
}

export const FULL: Sizes = {
  walkDirs: 100, walkFilesPerDir: 100, depths: [1, 4, 16, 64], negativeLookups: 10_000,
  readdirEntries: 20_000, readdirLayers: 4,
  copyUpBigMiB: 256, copyUpSmallFiles: 1_000, chmodFiles: 1_000, sparseMiB: 100,
  seqMiB: 512, randFileMiB: 256, randReads: 10_000,
  createUnlinkFiles: 5_000, rmTreeFiles: 10_000, renameDirFiles: 1_000,
  tarballSource: '/usr/include', cModules: 12,
  worldParentFiles: [10, 100_000], mergeChanges: [10, 100, 1_000],
  inWorld: { findDir: '/usr/share/doc', repoFiles: 4_000, sha1Glob: '/usr/bin/[a-f]*', tarSource: '/usr/include', cModules: 30 },
};

/** --quick: everyday use, under two minutes. Depth stops at 16 layers until worldfs lookups stop growing with depth. */
export const QUICK: Sizes = {
  walkDirs: 4, walkFilesPerDir: 50, depths: [1, 4, 16], negativeLookups: 200,
  readdirEntries: 1_000, readdirLayers: 4,
  copyUpBigMiB: 16, copyUpSmallFiles: 50, chmodFiles: 50, sparseMiB: 8,
  seqMiB: 32, randFileMiB: 16, randReads: 500,
  createUnlinkFiles: 200, rmTreeFiles: 200, renameDirFiles: 50,
  tarballSource: '/usr/include/linux/netfilter', cModules: 2,
  worldParentFiles: [10, 10_000], mergeChanges: [10, 1_000],
  inWorld: { findDir: '/usr/share/doc/[a-d]*', repoFiles: 500, sha1Glob: '/usr/bin/[a-c]*', tarSource: '/usr/include/linux', cModules: 6 },
};

export const walkFiles = (s: Sizes): number => s.walkDirs * s.walkFilesPerDir;
