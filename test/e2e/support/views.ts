// The variants every e2e behaviour runs against — worldfs with aufs whiteouts, worldfs with overlay
// whiteouts, and a plain directory holding the merged tree (the oracle that proves a test right) —
// and the table runner that mounts a fresh view per test and checks, after each one, that no lower
// layer and nothing in the test's `outside` directory was written and that the daemon logged no
// unexpected error.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountWorldfs, tempDir, unmountAll, type Mounted } from '../../helpers/worldfs.js';
import { fingerprint } from './snapshot.js';
import { materialize, mergeLayers, type Tree } from './tree.js';

export type VariantName = 'aufs' | 'overlay' | 'plain';

export interface Variant {
  readonly name: VariantName;
  /** True for a worldfs mount (layers exist); false for the plain-directory oracle. */
  readonly union: boolean;
  /** More worldfs mount options, and the describe's label for them. */
  readonly options?: readonly string[];
  readonly label?: string;
}

export const VARIANTS: readonly Variant[] = [
  { name: 'aufs', union: true },
  { name: 'overlay', union: true },
  { name: 'plain', union: false },
];
export const UNION_ONLY: readonly VariantName[] = ['aufs', 'overlay'];

/**
 * The files the kernel opens itself (open=kernel, fs/transport/kernel/node-files.ts): aufs once
 * more with it, where the transport is the kernel one (fuse-native ignores the option).
 */
const KERNEL_OPENS: Variant = { name: 'aufs', union: true, options: ['open=kernel'], label: 'aufs, open=kernel' };
const variantsFor = (kernelOpens: boolean): readonly Variant[] =>
  kernelOpens && process.env.WORLDFS_TRANSPORT === 'kernel' ? [...VARIANTS, KERNEL_OPENS] : VARIANTS;

export interface ViewSpec {
  /** Lower layers, highest priority first. */
  readonly layers: readonly Tree[];
  /** Extra entries created next to the view, in `<base>/outside` (never part of any layer). */
  readonly outside?: Tree;
  /** More worldfs mount options for this view (after the variant's). */
  readonly options?: readonly string[];
}

/** The directory a test works in, and where its layers live on the host. */
export interface View {
  readonly variant: Variant;
  /** The mountpoint (union) or the oracle directory (plain). */
  readonly root: string;
  /** The test's temp dir: layers in base/layers/lN, then base/upper, base/work, base/mnt, base/outside. */
  readonly base: string;
  /** Host directories of the lower layers, highest first ([] for plain). */
  readonly lowers: readonly string[];
  /** Host directory of the upper layer ('' for plain). */
  readonly upper: string;
  readonly work: string;
  readonly outside: string;
  mounted: Mounted | undefined;
  /** `root/rel`, normalised by path.join (so 'link/..' is resolved lexically: build such paths by hand). */
  p(rel?: string): string;
  /** After a test changed a lower layer on purpose: fingerprint the lower layers again (not `outside`). */
  rebaseline(): void;
  /** Mount the same layers again (after the previous daemon died or was unmounted). */
  remount(): Promise<void>;
}

/** The errno code a synchronous call fails with, or 'OK'. */
export function errno(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? `not an errno: ${String(e)}`;
  }
}

/** Run a command to completion; stdout/stderr as text. */
export function sh(cmd: string, args: readonly string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Poll `cond` every 50 ms until it holds or `ms` pass; returns whether it held. */
export async function eventually(cond: () => boolean, ms = 5000): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (cond()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Protected { readonly dir: string; before: string[] }

/** Per-test state behind `makeView`; registers its own beforeEach/afterEach in the calling describe. */
export function useViews(variant: Variant): {
  make(spec: ViewSpec): Promise<View>;
  /** Start a child process that afterEach kills if it is still running. */
  spawnTracked(cmd: string, args: readonly string[]): ChildProcess;
} {
  let tmp: ReturnType<typeof tempDir> | undefined;
  let views: View[] = [];
  let guarded: Protected[] = [];
  let children: ChildProcess[] = [];

  beforeEach(() => {
    tmp = tempDir('worldos-e2e-');
  });

  afterEach(async () => {
    try {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
      await unmountAll();
      for (const g of guarded) expect(fingerprint(g.dir), `${g.dir} must not change`).toEqual(g.before);
      for (const v of views) {
        expect(v.mounted?.stderr() ?? '', 'the daemon must hit no unexpected error').not.toMatch(/unexpected error/);
      }
    } finally {
      views = [];
      guarded = [];
      children = [];
      tmp?.cleanup();
      tmp = undefined;
    }
  });

  async function make(spec: ViewSpec): Promise<View> {
    const base = tmp!.path;
    const outside = join(base, 'outside');
    mkdirSync(outside);
    materialize(outside, spec.outside ?? {}, 'plain');
    const lowerGuards: Protected[] = [];
    let lowers: string[] = [];
    let upper = '';
    let work = '';
    let root: string;
    if (variant.union) {
      lowers = spec.layers.map((_, i) => join(base, 'layers', `l${i}`));
      spec.layers.forEach((tree, i) => {
        mkdirSync(lowers[i]!, { recursive: true });
        materialize(lowers[i]!, tree, variant.name);
      });
      upper = join(base, 'upper');
      work = join(base, 'work');
      root = join(base, 'mnt');
      for (const d of [upper, work, root]) mkdirSync(d);
      lowerGuards.push(...lowers.map((dir) => ({ dir, before: [] })));
    } else {
      root = join(base, 'plain');
      mkdirSync(root);
      materialize(root, mergeLayers(spec.layers), 'plain');
    }
    const local = [{ dir: outside, before: [] as string[] }, ...lowerGuards];
    for (const g of local) g.before = fingerprint(g.dir);
    guarded.push(...local);
    const view: View = {
      variant, root, base, lowers, upper, work, outside, mounted: undefined,
      p: (rel = '') => (rel === '' ? root : join(root, rel)),
      rebaseline: () => { for (const g of lowerGuards) g.before = fingerprint(g.dir); },
      remount: async () => {
        view.mounted = await mountWorldfs({ lowers, upper, work, mnt: root, whiteout: variant.name, options: [...variant.options ?? [], ...spec.options ?? []] });
      },
    };
    if (variant.union) await view.remount();
    views.push(view);
    return view;
  }

  return {
    make,
    spawnTracked(cmd, args) {
      const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      children.push(c);
      return c;
    },
  };
}

/** One behaviour: the layers it starts from and what it does and checks. */
export interface Case {
  readonly title: string;
  readonly layers: readonly Tree[];
  readonly outside?: Tree;
  /** More worldfs mount options for its view (ViewSpec.options). */
  readonly options?: readonly string[];
  /** The variants the behaviour makes sense on (default: all, the oracle included). */
  readonly only?: readonly VariantName[];
  run(v: View, env: ReturnType<typeof useViews>): void | Promise<void>;
}

/**
 * Register one describe per variant and one test per case that applies to it; `kernelOpens`: the
 * suite runs once more where the kernel opens files itself (open=kernel).
 */
export function runCases(suite: string, cases: readonly Case[], opts: { kernelOpens?: boolean } = {}): void {
  for (const variant of variantsFor(opts.kernelOpens === true)) {
    if (!cases.some((c) => !c.only || c.only.includes(variant.name))) continue;
    describe(`${suite} (${variant.label ?? variant.name})`, () => {
      const env = useViews(variant);
      for (const c of cases) {
        if (c.only && !c.only.includes(variant.name)) continue;
        it(c.title, async () => {
          const v = await env.make({ layers: c.layers, outside: c.outside, options: c.options });
          await c.run(v, env);
        });
      }
    });
  }
}
