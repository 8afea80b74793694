// The running views a merge changes, brought up to date at its end without unmounting anything:
// merged worlds' daemons become aliases of the ancestor's view, bystanders' daemons switch to their
// new layer stack, and every view stacking the ancestor's layer reads it afresh (docs/merge.md).
// A daemon is never stopped here: its mount is the root of running processes, and a stopped
// daemon's busy mount is detached and its connection aborted (kernel.ts), leaving them ENOTCONN.
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { StackFile } from '../host/stack-file.js';
import { findById, type Registry, type World } from '../registry/model.js';
import { writeFileAtomic } from '../registry/atomic-file.js';
import type { WorldsContext } from './context.js';
import { addAliases, liveAliases, liveDaemon, refreshDaemon, stackFileOf, startDaemon, type DaemonRecord } from './daemon.js';
import type { MergeJournal } from './merge-journal.js';
import { lineageOf, prunedPaths } from './stack.js';
import { withElapsed } from '../progress.js';

/** The stack world `w` is served with now: its own layer over its ancestors' (the registry's order). */
function stackOf(ctx: WorldsContext, reg: Registry, w: World, work = ctx.layout.work(w.id)): StackFile {
  const stack = lineageOf(reg, w.id, ctx.lineage);
  const base = stack[stack.length - 1]!;
  return {
    lowerdirs: stack.slice(1).map((x) => ctx.layout.layer(x)), upperdir: ctx.layout.layer(w), workdir: work,
    seenlog: ctx.layout.seenLog(w.id), prune: prunedPaths(ctx.layout.layer(base), ctx.layout.home),
  };
}

/** Make a running daemon serve `spec` (written to its stack file, then SIGUSR1); waits for its acknowledgement, bounded. */
async function pointDaemon(rec: DaemonRecord, file: string, spec: StackFile): Promise<void> {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileAtomic(file, JSON.stringify(spec) + '\n');
  await refreshDaemon(rec, file);
}

/**
 * The merged worlds' processes and views now belong to the ancestor: their members move to the
 * ancestor (cgroup: moved while frozen; pidns: the namespaces change owner), and their daemons
 * switch to the ancestor's stack, so their processes see the ancestor's files and keep their open
 * files (moved by rename).
 */
export async function adoptMerged(ctx: WorldsContext, j: MergeJournal): Promise<void> {
  const reg = ctx.store.read();
  const into = findById(reg, j.into)!;
  const adopted: DaemonRecord[] = [];
  for (const id of j.fold) {
    ctx.membership.adopt(id, into.id);
    adopted.push(...liveAliases(ctx.layout.aliasesFile(id)));
    const rec = liveDaemon(ctx.layout.daemonFile(id));
    if (!rec || !j.aliases.includes(id)) continue;
    const work = join(ctx.layout.worldDir(into.id), 'alias-work', id);
    mkdirSync(work, { recursive: true, mode: 0o700 });
    await pointDaemon(rec, ctx.layout.stackFile(id), stackOf(ctx, reg, into, work));
    adopted.push(rec);
  }
  if (adopted.length > 0) addAliases(ctx.layout.aliasesFile(into.id), adopted);
}

/**
 * Bystanders' daemons (j.remount: the views of worlds that stacked a merged world) switch to
 * their new stack in place, so the processes whose root they are keep running and see what they
 * saw (their layers kept it: protect.ts); so do their aliases. One whose daemon died meanwhile is
 * mounted again.
 */
export async function restackBystanders(ctx: WorldsContext, j: MergeJournal): Promise<void> {
  const reg = ctx.store.read();
  for (const r of j.remount) {
    const w = findById(reg, r.id);
    if (!w) continue;
    const rec = liveDaemon(ctx.layout.daemonFile(w.id));
    if (rec) await pointDaemon(rec, ctx.layout.stackFile(w.id), stackOf(ctx, reg, w));
    else await mountWorldAt(ctx, w, r.mountpoint);
    // Views of worlds merged into it earlier serve its stack too, each with its own work directory.
    for (const a of liveAliases(ctx.layout.aliasesFile(w.id))) {
      const file = aliasStack(a);
      const work = file === undefined ? undefined : workOf(file);
      if (file !== undefined && work !== undefined) await pointDaemon(a, file, stackOf(ctx, reg, w, work));
    }
  }
}

/** The work directory recorded in a stack file, if it can be read. */
function workOf(stackFile: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(stackFile, 'utf8')) as StackFile).workdir;
  } catch {
    return undefined;
  }
}

/**
 * The ancestor's layer changed in place: every running view that stacks it (the ancestor's own,
 * its aliases, its other descendants' — not the bystanders, switched already) reads its stack
 * afresh before the merge returns, so that it shows at once even where the kernel caches long.
 */
export async function refreshViews(ctx: WorldsContext, j: MergeJournal): Promise<void> {
  const reg = ctx.store.read();
  const restacked = new Set(j.remount.map((r) => r.id));
  for (const w of reg.worlds) {
    if (restacked.has(w.id) || !lineageOf(reg, w.id, ctx.lineage).some((a) => a.id === j.into)) continue;
    const rec = liveDaemon(ctx.layout.daemonFile(w.id));
    // Its current stack, written out: a stack file left by an earlier switch must not bring an old one back.
    if (rec) await pointDaemon(rec, ctx.layout.stackFile(w.id), stackOf(ctx, reg, w));
    // Aliases serve the ancestor's stack too (those adopted just now were re-pointed already: twice is harmless).
    if (w.id !== j.into) continue;
    for (const a of liveAliases(ctx.layout.aliasesFile(w.id))) {
      const stack = aliasStack(a);
      if (stack !== undefined) await refreshDaemon(a, stack);
    }
  }
}

/** The stack file an alias daemon was started with (its merged world's: the stack= of its command line). */
const aliasStack = (a: DaemonRecord): string | undefined => stackFileOf(a.pid);

/** Mount a world's view with its own daemon (shared with `worldctl mount`). */
export async function mountWorldAt(ctx: WorldsContext, w: World, mountpoint: string): Promise<void> {
  const reg = ctx.store.read();
  const spec = stackOf(ctx, reg, w);
  // A new daemon starts from its command line: an old daemon's stack file must not replace it on SIGUSR1.
  rmSync(ctx.layout.stackFile(w.id), { force: true });
  rmSync(ctx.layout.stackFile(w.id) + '.ok', { force: true });
  mkdirSync(dirname(ctx.layout.nodeJournal(w.id)), { recursive: true, mode: 0o700 });
  // Over / the first mount walks a big base (watches, the store pruned): say so on a terminal while it lasts.
  const overRoot = spec.lowerdirs[spec.lowerdirs.length - 1] === '/';
  const start = () => startDaemon({
    lowers: spec.lowerdirs, upper: spec.upperdir, work: spec.workdir, whiteout: w.whiteout, prune: spec.prune!,
    seenlog: spec.seenlog!, log: ctx.layout.logFile(w.id), mountpoint, stack: ctx.layout.stackFile(w.id), suid: !w.nosuid,
    kernelOpens: !w.openByDaemon, journal: ctx.layout.nodeJournal(w.id), ...(w.maxNodes !== undefined ? { maxNodes: w.maxNodes } : {}),
  }, ctx.layout.daemonFile(w.id));
  if (overRoot && ctx.progress) await withElapsed(ctx.progress, `mounting world "${w.name}" over /`, start);
  else await start();
}
