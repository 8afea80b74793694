// Everyday commands on the host and in a world over / (issue 11): each one is a shell line run
// the same way on both sides, the world's through `worldctl run W -- sh -c LINE`, start-up
// included. Pure data: the runner (in-world-runner.ts) builds the host-side trees and runs them.
import { basename } from 'node:path';
import type { PairDef } from '../pairs.js';
import type { InWorldSizes } from '../sizes.js';
import { fmtCount, q, type FigureDef } from './workload.js';

/** Where one run of a command works: the same paths exist on the host and, through the base, in the world. */
export interface LinePlaces {
  /** The host-side fixture directory (read by both sides, written by neither). */
  readonly fx: string;
  /** This side's own output directory (the world writes into its copy of `<fx>/out-world`). */
  readonly out: string;
  /** A number unique to this run, for names that must be fresh. */
  readonly n: number;
}

export interface WorldCommand {
  readonly key: string;
  readonly label: string;
  /** The timed shell line. */
  line(p: LinePlaces): string;
  /** An untimed shell line run right after each timed run on the same side: checks and removes what it made. */
  after?(p: LinePlaces): string;
  /**
   * What a run made stays until the session ends (`after` only checks it), and the kernel's dentries
   * and inodes are dropped after each run instead (the world's daemon then forgets its nodes). For
   * commands that make thousands of files: removing them right before the next run's creations
   * makes both sides pay for ext4's scan past recently freed inodes (without a journal, as here, it
   * reuses no inode freed less than a minute ago: host `tar -x` of /usr/include took 2.6-2.9 s
   * after such a removal, 0.2-0.6 s without one), which then measures the removal, not the command.
   */
  readonly keepsOutput?: boolean;
  /** The world's standard output must equal the host's (the same files were read). */
  readonly sameOutput: boolean;
  /** Start-up alone: judged against an absolute target, not divided by the host's. */
  readonly startup?: boolean;
}

/** Target of issue 11: every command within this ratio of the host (apt: of the overlayfs chroot). */
export const RATIO_TARGET = 1.5;
/** Target of issue 11 for `worldctl run W -- true`, in seconds. */
export const STARTUP_TARGET_SEC = 0.3;
/** Target of issue 11 for the world daemon's peak resident memory, in MiB. */
export const RSS_TARGET_MIB = 100;

export const PYTHON_IMPORTS = 'asyncio, email.mime.multipart, json, http.server, sqlite3, decimal, xml.etree.ElementTree, unittest, argparse, logging';

/** The commands, in the order they run; `start` must stay first (its first run mounts the world). */
export function worldCommands(s: InWorldSizes): WorldCommand[] {
  return [
    { key: 'start', label: '`worldctl run w -- true` (host: `true`)', line: () => 'true', sameOutput: true, startup: true },
    {
      key: 'find', label: `find ${s.findDir} -printf x`, sameOutput: true,
      line: () => `find ${s.findDir} -printf x | wc -c`,
    },
    {
      key: 'git', label: `git status --porcelain, repo of ${fmtCount(s.repoFiles)} files`, sameOutput: true,
      line: (p) => `git -C ${q(`${p.fx}/repo`)} status --porcelain`,
    },
    {
      key: 'gcc', label: 'gcc -O0 -c of a file including stdio/stdlib/string', sameOutput: false,
      line: (p) => `gcc -O0 -c ${q(`${p.fx}/p.c`)} -o ${q(`${p.out}/p${p.n}.o`)}`,
      after: (p) => `test -s ${q(`${p.out}/p${p.n}.o`)} && rm ${q(`${p.out}/p${p.n}.o`)}`,
    },
    { key: 'sha1sum', label: `sha1sum ${s.sha1Glob}`, sameOutput: true, line: () => `sha1sum ${s.sha1Glob}` },
    {
      key: 'python', label: 'python3 -c \'import asyncio, email, json, http.server, ...\'', sameOutput: true,
      line: () => `python3 -c ${q(`import ${PYTHON_IMPORTS}; print("ok")`)}`,
    },
    {
      key: 'untar', label: `tar -x of ${s.tarSource} into /tmp`, sameOutput: false,
      line: (p) => `mkdir ${q(`${p.out}/untar${p.n}`)} && tar -xf ${q(`${p.fx}/src.tar`)} -C ${q(`${p.out}/untar${p.n}`)}`,
      after: (p) => `test -d ${q(`${p.out}/untar${p.n}/${basename(s.tarSource)}`)}`,
      keepsOutput: true,
    },
    {
      key: 'make', label: `make -j2 of a ${s.cModules + 1}-file C project`, sameOutput: false,
      line: (p) => `make -s -j2 -C ${q(`${p.out}/proj`)}`,
      // The program runs (the build is real), then the next run starts from the sources alone.
      after: (p) => `${q(`${p.out}/proj/prog`)} > /dev/null && rm -f ${q(`${p.out}/proj`)}/*.o ${q(`${p.out}/proj/prog`)}`,
    },
  ];
}

export interface InWorldSession {
  readonly id: 'in-world';
  readonly group: 'in-world';
  readonly commands: readonly WorldCommand[];
  /** One per command, plus the daemon's peak memory. */
  readonly figures: readonly FigureDef[];
}

export const RSS_KEY = 'daemon-rss';

export function inWorldSession(s: InWorldSizes): InWorldSession {
  const commands = worldCommands(s);
  return {
    id: 'in-world', group: 'in-world', commands,
    figures: [
      ...commands.map((c): FigureDef => ({ key: c.key, label: c.label, unit: 's' })),
      { key: RSS_KEY, label: 'world daemon peak memory (VmHWM) through these commands', unit: 'MiB' },
    ],
  };
}

/** apt-get install of one small package from a local .deb: a world against a kernel-overlayfs chroot of /. */
export interface AptSession {
  readonly id: 'apt';
  readonly group: 'in-world';
  readonly pkg: string;
  readonly figures: readonly FigureDef[];
}

export function aptSession(pkg = 'hello'): AptSession {
  return {
    id: 'apt', group: 'in-world', pkg,
    figures: [
      { key: 'install', label: `apt-get install ./${pkg}_*.deb (local file, no network), then run it`, unit: 's' },
      { key: RSS_KEY, label: 'world daemon peak memory (VmHWM) through the install', unit: 'MiB' },
    ],
  };
}

/** The install line, the same in the world and in the chroot. */
export function aptLine(deb: string, pkg: string): string {
  return `DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${q(deb)} > /dev/null && ${pkg} > /dev/null`;
}

/** The figures of a session as pairs, each with its issue 11 target. */
export function pairDefs(s: InWorldSession | AptSession): PairDef[] {
  return s.figures.map((f) => ({
    key: f.key, session: s.id, label: f.label, unit: f.unit,
    target: f.key === RSS_KEY ? { kind: 'MiB', value: RSS_TARGET_MIB }
      : f.key === 'start' ? { kind: 'seconds', value: STARTUP_TARGET_SEC }
      : { kind: 'ratio', value: RATIO_TARGET },
  }));
}
