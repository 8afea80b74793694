// World operations through worldctl (worldfs only; the peers have no worlds): `create` against the
// size of the parent, `merge` against the number of changed files (written through the child's
// mounted view, as a user would), and `delete`. Fresh stores every run; the times are whole worldctl
// commands, Node start-up included (`worldctl --help` is measured too, as that floor).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { worldBase, type Fixtures } from '../fixtures.js';
import type { Sizes } from '../sizes.js';
import { fmtCount, type FigureDef } from './workload.js';

export interface WorldsCtx {
  readonly fixtures: Fixtures;
  /** A fresh empty directory for this run. */
  readonly scratch: string;
  /** `worldctl --home HOME ARGS...`; resolves to its wall time. */
  worldctl(home: string, ...args: string[]): Promise<number>;
  client(op: string, ...args: (string | number)[]): Promise<Record<string, number>>;
  /** Record a figure (or its failure) and go on. */
  measure(key: string, fn: () => Promise<number>): Promise<void>;
}

export interface WorldsSession {
  readonly id: 'worlds';
  readonly group: 'worlds';
  readonly title: string;
  readonly fixtures: readonly string[];
  readonly figures: readonly FigureDef[];
  run(ctx: WorldsCtx): Promise<void>;
}

export function worldsSession(s: Sizes): WorldsSession {
  const [small, ...bigger] = s.worldParentFiles;
  const changes = s.mergeChanges;
  const total = changes.reduce((a, b) => a + b, 0);
  return {
    id: 'worlds', group: 'worlds', title: 'world operations (worldctl)',
    fixtures: s.worldParentFiles.map(worldBase),
    figures: [
      { key: 'help', label: 'worldctl --help (process start-up floor)', unit: 's' },
      ...s.worldParentFiles.map((n): FigureDef => ({ key: `create-${n}`, label: `worldctl create, parent of ${fmtCount(n)} files`, unit: 's' })),
      ...changes.map((k): FigureDef => ({ key: `merge-${k}`, label: `worldctl merge, ${fmtCount(k)} changed files`, unit: 's' })),
      { key: 'delete-full', label: `worldctl delete, world of ${fmtCount(total)} files`, unit: 's' },
    ],
    async run(c) {
      const a = join(c.scratch, 'a');
      await c.measure('help', () => c.worldctl(a, '--help'));
      await c.worldctl(a, 'init', '--base', c.fixtures.get(worldBase(small!))![0]!);
      await c.measure(`create-${small}`, () => c.worldctl(a, 'create', 'child'));
      for (const [i, n] of bigger.entries()) {
        const home = join(c.scratch, `b${i}`);
        await c.worldctl(home, 'init', '--base', c.fixtures.get(worldBase(n))![0]!);
        await c.measure(`create-${n}`, () => c.worldctl(home, 'create', 'child'));
      }
      // Merges into one parent: each child writes k new files through its view, then is merged.
      await c.worldctl(a, 'create', 'parent');
      for (const k of changes) {
        const child = `child-${k}`;
        const mnt = join(c.scratch, `mnt-${k}`);
        await c.worldctl(a, 'create', child, '--from', 'parent');
        await c.worldctl(a, 'mount', child, '--at', mnt);
        try {
          await c.client('write-new', join(mnt, `changes-${k}`), k, 1024);
        } finally {
          await c.worldctl(a, 'umount', child);
        }
        await c.measure(`merge-${k}`, async () => {
          const t = await c.worldctl(a, 'merge', child, '--into', 'parent');
          mustHoldChanges(a, `changes-${k}`, k);
          return t;
        });
      }
      await c.measure('delete-full', () => c.worldctl(a, 'delete', 'parent'));
    },
  };
}

/** A merge that moved nothing would look fast: check that some world's layer now holds the k files. */
function mustHoldChanges(home: string, dir: string, k: number): void {
  const worlds = join(home, 'worlds'); // the store layout the README documents: <home>/worlds/<id>/layer
  for (const id of readdirSync(worlds)) {
    const d = join(worlds, id, 'layer', dir);
    if (existsSync(d) && readdirSync(d).length === k) return;
  }
  throw new Error(`after the merge no world's layer holds ${dir}/ with ${k} files`);
}
