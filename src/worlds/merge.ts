// merge: fold a child world's changes — and those of every world between it and the ancestor —
// into the ancestor, in layer order, by renames. Then the merged worlds are gone and their other
// children hang from the ancestor, pinned so that none of their files change (docs/merge.md).
//
// Crash safety: the journal (merge-journal.ts) is written before any change; each phase's plan is
// journaled before it runs and each step's completion is logged; every later worldctl call that
// finds a journal whose owner is dead finishes the merge (roll forward).
import { removeTree } from '../host/remove-tree.js';
import { findConflicts, type MergedLayer } from '../core/merge/conflicts.js';
import { planApplyPass, planRedirectPass, touchedPaths, type PlanInput } from '../core/merge/plan.js';
import { MERGE_POLICIES, type Conflict } from '../core/merge/policy.js';
import { toViewPath } from '../core/paths.js';
import { resolve } from '../core/resolve.js';
import { whiteoutFormat } from '../core/whiteout/index.js';
import { WorldError } from '../core/world-error.js';
import { emptyTrash, runSteps } from '../host/apply-merge.js';
import { HostLayers } from '../host/layer-probe.js';
import { isAlive, refOf } from '../host/process-identity.js';
import { identityOf, readSeenLog } from '../host/seen-log.js';
import { children, findById, isAncestor, removeWorld, replaceWorld, type Registry, type World } from '../registry/model.js';
import { mustBeActive, mustFindByName, type WorldsContext } from './context.js';
import { addAliases, liveAliases, liveDaemon, refreshDaemon, startDaemon, stopDaemon, type DaemonRecord } from './daemon.js';
import { writeFileAtomic } from '../registry/atomic-file.js';
import type { StackFile } from '../host/stack-file.js';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { JournalFiles, type MergeJournal } from './merge-journal.js';
import { pinPaths } from './protect.js';
import { hostStack, lineageOf, prunedPaths } from './stack.js';

export interface MergeResult {
  readonly merged: readonly string[];
  readonly into: string;
  readonly conflicts: readonly Conflict[];
  readonly reparented: readonly string[];
}

/** The worlds a merge of `child` into `into` folds, lowest priority first (child last). */
export function foldOrder(ctx: WorldsContext, reg: Registry, child: World, into: World): World[] {
  const between = (w: World) => w.id === child.id || isAncestor(reg, w.id, child.id);
  return lineageOf(reg, child.id, ctx.lineage)
    .filter((w) => w.id !== into.id && between(w) && isAncestor(reg, into.id, w.id))
    .reverse();
}

export async function mergeWorld(ctx: WorldsContext, childName: string, intoName: string, policyId = 'fail'): Promise<MergeResult> {
  const policy = MERGE_POLICIES.get(policyId);
  if (!policy) throw new WorldError('BAD_NAME', `unknown conflict policy ${JSON.stringify(policyId)}; expected one of ${[...MERGE_POLICIES.keys()].join(', ')}`);
  const journal = new JournalFiles(ctx.layout.journalDir);
  await resumeMerge(ctx); // a merge killed earlier is finished first
  const reg = ctx.store.read();
  const child = mustFindByName(reg, childName);
  const into = mustFindByName(reg, intoName);
  if (child.id === into.id) throw new WorldError('NOT_ANCESTOR', `cannot merge "${child.name}" into itself; name one of its ancestors`);
  if (child.base) throw new WorldError('IS_BASE', `"${child.name}" is the base world; it has nothing to merge`);
  if (into.base) {
    throw new WorldError('IS_BASE', `cannot merge into "${into.name}": the base is the read-only bottom of every world; merge into a world created from it`);
  }
  if (!isAncestor(reg, into.id, child.id)) {
    throw new WorldError('NOT_ANCESTOR', `"${into.name}" is not an ancestor of "${child.name}"; its ancestors are ` +
      lineageOf(reg, child.id, ctx.lineage).slice(1).map((w) => `"${w.name}"`).join(', '));
  }
  const fold = foldOrder(ctx, reg, child, into);
  for (const w of [...fold, into]) mustBeActive(w);
  const formats = new Set([...fold, into].map((w) => w.whiteout));
  if (formats.size > 1) throw new WorldError('IO', `the worlds use different whiteout formats (${[...formats].join(', ')}); merging across formats is not supported`);

  // Conflicts, decided before anything changes.
  const format = whiteoutFormat(into.whiteout);
  const target = hostStack(reg, into.id, ctx.layout, ctx.lineage);
  const layers: MergedLayer[] = fold.map((w) => ({
    world: w.name,
    seen: readSeenLog(ctx.layout.seenLog(w.id)),
    touched: new Map(touchedPaths(ownLayer(ctx, w), format).map((t) => [t.path, t.kind] as const)),
  }));
  const conflicts = findConflicts(layers, (p) => currentIdentity(target, p));
  const skip: string[] = [];
  const aborting: Conflict[] = [];
  for (const c of conflicts) {
    const d = policy.decide(c);
    if (d === 'abort') aborting.push(c);
    else if (d === 'keep-parent') skip.push(c.path);
  }
  if (aborting.length > 0) {
    throw new WorldError('CONFLICT', `merge refused: ${aborting.length} path(s) changed in "${into.name}" since the child first saw them:\n` +
      aborting.map((c) => `  ${c.path}  (changed by "${c.world}")`).join('\n'), {
      hint: 'choose with --on-conflict child (take the child\'s versions) or --on-conflict parent (keep the ancestor\'s)',
    });
  }

  // Other children of merged worlds: new parents, checked for a consistent order now.
  const mergedIds = new Set(fold.map((w) => w.id));
  const others = reg.worlds.filter((w) => !mergedIds.has(w.id) && w.parents.some((p) => mergedIds.has(p)));
  const reparent = others.map((w) => ({ id: w.id, parents: dedupe(w.parents.map((p) => (mergedIds.has(p) ? into.id : p))) }));
  let trial = reg;
  for (const r of reparent) trial = replaceWorld(trial, { ...findById(trial, r.id)!, parents: r.parents });
  for (const r of reparent) lineageOf(trial, r.id, ctx.lineage);

  // Merged worlds' views become aliases of the ancestor's (their daemons are re-pointed at the end);
  // daemons of other worlds whose stack changes are stopped now and mounted again afterwards.
  const aliases = fold.filter((w) => liveDaemon(ctx.layout.daemonFile(w.id))).map((w) => w.id);
  const affected = reg.worlds.filter((w) => !mergedIds.has(w.id) && lineageOf(reg, w.id, ctx.lineage).some((a) => mergedIds.has(a.id)));
  const remount = affected
    .map((w) => ({ id: w.id, mountpoint: liveDaemon(ctx.layout.daemonFile(w.id))?.mountpoint }))
    .filter((r): r is { id: string; mountpoint: string } => r.mountpoint !== undefined);

  const j: MergeJournal = {
    op: 'merge', owner: refOf(process.pid)!, child: child.id, into: into.id, fold: fold.map((w) => w.id),
    skip, remount, aliases, reparent, phase: 0,
  };
  ctx.store.update((r) => {
    let next = r;
    for (const id of [...j.fold, into.id]) {
      const w = findById(next, id)!;
      mustBeActive(w);
      next = replaceWorld(next, { ...w, state: 'merging' });
    }
    journal.write(j);
    return { registry: next, result: undefined };
  });
  for (const w of affected) await stopDaemon(ctx.layout.daemonFile(w.id));
  // The merged worlds' processes stay frozen until they belong to the ancestor.
  for (const w of fold) ctx.membership.freeze(w.id);

  // Protect the other children before any layer changes.
  for (const o of others) {
    const stack = hostStack(reg, o.id, ctx.layout, ctx.lineage);
    const mine = new Set(lineageOf(reg, o.id, ctx.lineage).map((w) => w.id));
    const paths = new Set<string>();
    for (const w of fold) {
      if (mine.has(w.id)) continue;
      for (const t of touchedPaths(ownLayer(ctx, w), format)) if (t.kind !== 'dir') paths.add(t.path);
    }
    pinPaths(stack, ctx.layout.work(o.id), [...paths].sort());
  }
  await runJournal(ctx, j);
  return { merged: fold.map((w) => w.name), into: into.name, conflicts, reparented: others.map((w) => w.name) };
}

/** Finish a merge whose process died (no-op when there is none; BUSY when its owner still runs). */
export async function resumeMerge(ctx: WorldsContext): Promise<boolean> {
  const j = new JournalFiles(ctx.layout.journalDir).read();
  if (!j) return false;
  if (j.owner.pid !== process.pid && isAlive(j.owner)) {
    throw new WorldError('BUSY', `a merge is in progress (worldctl pid ${j.owner.pid}); wait for it to finish`);
  }
  await runJournal(ctx, { ...j, owner: refOf(process.pid)! });
  return true;
}

async function runJournal(ctx: WorldsContext, start: MergeJournal): Promise<void> {
  const files = new JournalFiles(ctx.layout.journalDir);
  let j = start;
  const reg = ctx.store.read();
  const into = findById(reg, j.into)!;
  const format = whiteoutFormat(into.whiteout);
  const skip = new Set(j.skip);
  const skipFn = skip.size === 0 ? undefined : (p: string) => [...skip].some((s) => p === s.slice(1) || p.startsWith(s.slice(1) + '/'));
  while (j.phase < j.fold.length * 2) {
    const source = findById(reg, j.fold[j.phase >> 1]!)!;
    const sides = {
      source: { layer: ctx.layout.layer(source), work: ctx.layout.work(source.id) },
      target: { layer: ctx.layout.layer(into), work: ctx.layout.work(into.id) },
      format, trash: files.trash,
    };
    if (j.steps === undefined) {
      const input: PlanInput = {
        source: hostStack(ctx.store.read(), source.id, ctx.layout, ctx.lineage),
        target: hostStack(reg, into.id, ctx.layout, ctx.lineage), format, skip: skipFn,
      };
      j = { ...j, steps: (j.phase & 1) === 0 ? planRedirectPass(input) : planApplyPass(input) };
      files.write(j);
    }
    runSteps(sides, j.steps!, files.progress, j.phase);
    j = { ...j, phase: j.phase + 1, steps: undefined };
    files.write(j);
  }
  // All layers folded: update the graph, then remove what is left of the merged worlds.
  ctx.store.update((r) => {
    let next = r;
    for (const rp of j.reparent) {
      const w = findById(next, rp.id);
      if (w) next = replaceWorld(next, { ...w, parents: rp.parents });
    }
    for (const id of [...j.fold].reverse()) if (findById(next, id) && children(next, id).length === 0) next = removeWorld(next, id);
    const target = findById(next, j.into);
    if (target) next = replaceWorld(next, { ...target, state: 'active' });
    return { registry: next, result: undefined };
  });
  await adoptMerged(ctx, j);
  await refreshViews(ctx, j);
  for (const id of j.fold) removeTree(ctx.layout.worldDir(id));
  emptyTrash(files.trash);
  const after = ctx.store.read();
  for (const r of j.remount) {
    const w = findById(after, r.id);
    if (w && !liveDaemon(ctx.layout.daemonFile(w.id))) await mountWorldAt(ctx, w, r.mountpoint);
  }
  files.remove();
}

/**
 * The merged worlds' processes and views now belong to the ancestor: their members move to the
 * ancestor (cgroup: moved while frozen; pidns: the namespaces change owner), and their daemons
 * switch to the ancestor's stack,
 * so their processes see the ancestor's files and keep their open files (moved by rename).
 */
async function adoptMerged(ctx: WorldsContext, j: MergeJournal): Promise<void> {
  const reg = ctx.store.read();
  const into = findById(reg, j.into)!;
  const stack = lineageOf(reg, into.id, ctx.lineage);
  const base = stack[stack.length - 1]!;
  const adopted: DaemonRecord[] = [];
  for (const id of j.fold) {
    ctx.membership.adopt(id, into.id);
    adopted.push(...liveAliases(ctx.layout.aliasesFile(id)));
    const rec = liveDaemon(ctx.layout.daemonFile(id));
    if (!rec || !j.aliases.includes(id)) continue;
    const work = join(ctx.layout.worldDir(into.id), 'alias-work', id);
    mkdirSync(work, { recursive: true });
    const spec: StackFile = {
      lowerdirs: stack.slice(1).map((w) => ctx.layout.layer(w)), upperdir: ctx.layout.layer(into), workdir: work,
      seenlog: ctx.layout.seenLog(into.id), prune: prunedPaths(ctx.layout.layer(base), ctx.layout.home),
    };
    const file = ctx.layout.stackFile(id);
    mkdirSync(dirname(file), { recursive: true });
    rmSync(file + '.ok', { force: true });
    writeFileAtomic(file, JSON.stringify(spec) + '\n');
    process.kill(rec.pid, 'SIGUSR1');
    for (let i = 0; i < 200 && !existsSync(file + '.ok'); i++) await new Promise((r) => setTimeout(r, 25));
    adopted.push(rec);
  }
  if (adopted.length > 0) addAliases(ctx.layout.aliasesFile(into.id), adopted);
}

/**
 * The ancestor's layer changed in place: every running view that stacks it (the ancestor's own,
 * its aliases, its other descendants' that are not mounted again) reads it afresh before the merge
 * returns, so that it shows at once even where the kernel caches long (src/worlds/daemon.ts).
 */
async function refreshViews(ctx: WorldsContext, j: MergeJournal): Promise<void> {
  const reg = ctx.store.read();
  const remounted = new Set(j.remount.map((r) => r.id));
  for (const w of reg.worlds) {
    if (remounted.has(w.id) || !lineageOf(reg, w.id, ctx.lineage).some((a) => a.id === j.into)) continue;
    const rec = liveDaemon(ctx.layout.daemonFile(w.id));
    if (rec) await refreshDaemon(rec, ctx.layout.stackFile(w.id));
    // Aliases serve the ancestor's stack too (those adopted just now were re-pointed already: twice is harmless).
    if (w.id !== j.into) continue;
    for (const a of liveAliases(ctx.layout.aliasesFile(w.id))) {
      const stack = aliasStack(a);
      if (stack !== undefined) await refreshDaemon(a, stack);
    }
  }
}

/** The stack file an alias daemon was started with (its merged world's: the stack= of its command line). */
function aliasStack(a: DaemonRecord): string | undefined {
  try {
    const m = /(?:^|,)stack=([^,]+)/.exec(readFileSync(`/proc/${a.pid}/cmdline`, 'utf8').replace(/\0/g, ','));
    if (m) return m[1]!;
  } catch { /* gone: nothing to refresh */ }
  return undefined;
}

/** Mount a world's view with its own daemon (shared with `worldctl mount`). */
export async function mountWorldAt(ctx: WorldsContext, w: World, mountpoint: string): Promise<void> {
  const reg = ctx.store.read();
  const stack = lineageOf(reg, w.id, ctx.lineage);
  const base = stack[stack.length - 1]!;
  await startDaemon({
    lowers: stack.slice(1).map((x) => ctx.layout.layer(x)),
    upper: ctx.layout.layer(w),
    work: ctx.layout.work(w.id),
    whiteout: w.whiteout,
    prune: prunedPaths(ctx.layout.layer(base), ctx.layout.home),
    seenlog: ctx.layout.seenLog(w.id),
    log: ctx.layout.logFile(w.id),
    mountpoint,
    stack: ctx.layout.stackFile(w.id),
    suid: !w.nosuid,
  }, ctx.layout.daemonFile(w.id));
}

/** A reader of one world's own layer only. */
function ownLayer(ctx: WorldsContext, w: World): HostLayers {
  return new HostLayers([ctx.layout.layer(w)], whiteoutFormat(w.whiteout));
}

/** What the ancestor's view has at `path` now, as a seen-log identity. */
function currentIdentity(stack: HostLayers, path: string): string {
  try {
    const r = resolve(toViewPath(path), stack, stack.format);
    if (r.kind === 'absent') return 'absent';
    const b = r.node.branches[0]!;
    return identityOf(stack.hostPath(b.layer, b.rel));
  } catch {
    return 'absent';
  }
}

function dedupe(ids: readonly string[]): string[] {
  return ids.filter((id, i) => ids.indexOf(id) === i);
}
