// merge: fold a child world's changes — and those of every world between it and the ancestor —
// into the ancestor, in layer order, by renames. Then the merged worlds are gone and their other
// children hang from the ancestor; every bystander (a world stacking a merged one) first keeps its
// own copy of what it saw wherever its view would change, so none of its files change (docs/merge.md).
//
// Crash safety: the journal (merge-journal.ts) is written before any change; each phase's plan is
// journaled before it runs and each step's completion is logged; every later worldctl call that
// finds a journal whose owner is dead finishes the merge (roll forward).
import { removeTree } from '../host/remove-tree.js';
import { dropRunTicket } from './run-ticket.js';
import { planBystanders, type BystanderPins } from '../core/merge/bystanders.js';
import { findConflicts, type MergedLayer } from '../core/merge/conflicts.js';
import { planApplyPass, planRedirectPass, sourceRedirects, touchedPaths, type PlanInput } from '../core/merge/plan.js';
import { MERGE_POLICIES, changeOf, describeChange, type Conflict } from '../core/merge/policy.js';
import { toViewPath } from '../core/paths.js';
import { resolve } from '../core/resolve.js';
import { whiteoutFormat } from '../core/whiteout/index.js';
import { WorldError } from '../core/world-error.js';
import { emptyTrash, runSteps } from '../host/apply-merge.js';
import { holdAt } from '../host/failpoints.js';
import { HostLayers } from '../host/layer-probe.js';
import { readMounts } from '../host/mountinfo.js';
import { isAlive, refOf } from '../host/process-identity.js';
import { identityOf, readSeenLog } from '../host/seen-log.js';
import { children, findById, isAncestor, removeWorld, replaceWorld, type Registry, type World } from '../registry/model.js';
import { mustBeActive, mustFindByName, type WorldsContext } from './context.js';
import { liveDaemon } from './daemon.js';
import { JournalFiles, type MergeJournal } from './merge-journal.js';
import { adoptMerged, refreshViews, restackBystanders } from './merge-views.js';
import { adoptOutput } from './output-log.js';
import { silentProgress } from '../progress.js';
import { removeWorldLeftovers } from './mount-dirs.js';
import { pinPaths } from './protect.js';
import { listProcesses } from './processes.js';
import { hostStack, lineageOf, prunedPaths } from './stack.js';

export { mountWorldAt } from './merge-views.js';

export interface MergeResult {
  readonly merged: readonly string[];
  readonly into: string;
  readonly conflicts: readonly Conflict[];
  readonly reparented: readonly string[];
  /** Paths the merged worlds changed (each once), and their processes that now belong to `into`. */
  readonly files: number;
  readonly processes: number;
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
    touched: new Map(touchedPaths(hostStack(reg, w.id, ctx.layout, ctx.lineage), format).map((t) => [t.path, t.kind] as const)),
  }));
  const conflicts = findConflicts(layers, (p) => currentIdentity(target, p));
  const skip: string[] = [];
  const aborting: Conflict[] = [];
  for (const c of conflicts) {
    const d = policy.decide(c);
    if (d === 'abort') aborting.push(c);
    else if (d === 'keep-parent') skip.push(changeOf(c));
  }
  // A directory the child moved away cannot be kept as the ancestor's while its new name, which
  // the child's other changes are in, arrives: that would take a copy of the whole directory.
  const moved = new Map(fold.flatMap((w) => sourceRedirects({ source: hostStack(reg, w.id, ctx.layout, ctx.lineage), target, format })
    .map((r) => [r.target, { world: w.name, to: r.rel }] as const)));
  const unkeepable = conflicts.filter((c) => c.removedWith !== undefined && skip.includes(changeOf(c)) && moved.has(c.removedWith));
  if (unkeepable.length > 0) {
    throw new WorldError('CONFLICT', `merge refused: --on-conflict parent cannot keep "${into.name}"'s version of:\n` +
      unkeepable.map((c) => { const m = moved.get(c.removedWith!)!; return `  ${c.path}  ("${m.world}" moved ${c.removedWith} to /${m.to})`; }).join('\n'), {
      hint: 'take the child\'s versions with --on-conflict child, or move the directory back in the child first',
    });
  }
  if (aborting.length > 0) {
    throw new WorldError('CONFLICT', `merge refused: ${aborting.length} path(s) changed in "${into.name}" since the child first saw them:\n` +
      aborting.map((c) => `  ${c.path}  (${describeChange(c)})`).join('\n'), {
      hint: 'choose with --on-conflict child (take the child\'s versions) or --on-conflict parent (keep the ancestor\'s)',
    });
  }

  // Other children of merged worlds: new parents, checked for a consistent order now.
  const mergedIds = new Set(fold.map((w) => w.id));
  const others = reg.worlds.filter((w) => !mergedIds.has(w.id) && w.parents.some((p) => mergedIds.has(p)));
  // A parent that became an ancestor of another (the ancestor standing for a merged world) is dropped:
  // the other brings it anyway, and listing both would refuse the layer order (C3).
  const reparent = others.map((w) => {
    const ps = dedupe(w.parents.map((p) => (mergedIds.has(p) ? into.id : p)));
    return { id: w.id, parents: ps.filter((p) => !ps.some((q) => q !== p && isAncestor(reg, p, q))) };
  });
  let trial = reg;
  for (const r of reparent) trial = replaceWorld(trial, { ...findById(trial, r.id)!, parents: r.parents });
  for (const r of reparent) lineageOf(trial, r.id, ctx.lineage);

  // Bystanders: the worlds that stack a merged world without being merged. Their layer order
  // changes, so wherever their view would change they keep a copy of what they saw (planned now,
  // made before any layer changes); their daemons keep running and switch stacks at the end.
  const bystanders = reg.worlds.filter((w) => !mergedIds.has(w.id) && w.id !== into.id &&
    lineageOf(reg, w.id, ctx.lineage).some((a) => mergedIds.has(a.id)));
  const pins = planKeeps(ctx, reg, trial, fold, into, bystanders, skip);
  // Merged worlds' views become aliases of the ancestor's (their daemons are re-pointed at the end).
  const aliases = fold.filter((w) => liveDaemon(ctx.layout.daemonFile(w.id))).map((w) => w.id);
  const remount = bystanders
    .map((w) => ({ id: w.id, mountpoint: liveDaemon(ctx.layout.daemonFile(w.id))?.mountpoint }))
    .filter((r): r is { id: string; mountpoint: string } => r.mountpoint !== undefined);

  const j: MergeJournal = {
    op: 'merge', owner: refOf(process.pid)!, child: child.id, into: into.id, fold: fold.map((w) => w.id),
    skip, remount, aliases, reparent, pins, phase: 0,
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
  // The merged worlds' processes stay frozen until they belong to the ancestor.
  for (const w of fold) ctx.membership.freeze(w.id);
  const processes = fold.reduce((n, w) => n + listProcesses(ctx, w.id).length, 0);
  await runJournal(ctx, j);
  const files = new Set(layers.flatMap((l) => [...l.touched.keys()])).size;
  return { merged: fold.map((w) => w.name), into: into.name, conflicts, reparented: others.map((w) => w.name), files, processes };
}

/** What each bystander must keep (src/core/merge/bystanders.ts), read from the layers as they are. */
function planKeeps(ctx: WorldsContext, reg: Registry, after: Registry, fold: readonly World[], into: World,
  bystanders: readonly World[], skip: readonly string[]): BystanderPins[] {
  if (bystanders.length === 0) return [];
  const ids = (r: Registry, id: string) => lineageOf(r, id, ctx.lineage).map((w) => w.id);
  const involved = new Set<string>([...fold.map((w) => w.id), into.id]);
  for (const b of bystanders) for (const id of ids(reg, b.id)) involved.add(id);
  for (const b of bystanders) for (const id of ids(after, b.id)) involved.add(id);
  // One pool of every layer involved, the base last (only lower layers are pruned and hide mounts).
  const worlds = [...involved].map((id) => findById(reg, id)!).sort((a, b) => Number(a.base === true) - Number(b.base === true));
  const base = worlds[worlds.length - 1]!;
  const pool = new HostLayers(worlds.map((w) => ctx.layout.layer(w)), whiteoutFormat(into.whiteout),
    base.base ? prunedPaths(ctx.layout.layer(base), ctx.layout.home) : []);
  pool.setHiddenMounts(readMounts().filter((m) => m.fstype.startsWith('fuse')).map((m) => m.mountpoint));
  const index = new Map(worlds.map((w, i) => [w.id, i] as const));
  return planBystanders({
    pool, layerOf: (id) => index.get(id)!, format: pool.format,
    before: (id) => ids(reg, id), after: (id) => ids(after, id),
    fold: fold.map((w) => w.id), into: into.id, bystanders: bystanders.map((w) => w.id), skip,
  });
}

/** Whether a layer-relative path lies at or under a path whose merged changes are not applied. */
function skipFor(skip: readonly string[]): ((rel: string) => boolean) | undefined {
  if (skip.length === 0) return undefined;
  return (p) => skip.some((s) => p === s.slice(1) || p.startsWith(s.slice(1) + '/'));
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
  // Bystanders keep what they see before any layer changes (idempotent: a re-run finishes them).
  if (!j.pinned) {
    await holdAt('merge-keep');
    for (const b of j.pins ?? []) {
      if (findById(reg, b.world)) pinPaths(hostStack(reg, b.world, ctx.layout, ctx.lineage), ctx.layout.work(b.world), b.pins);
      await holdAt('merge-kept');
    }
    j = { ...j, pinned: true };
    files.write(j);
  }
  const skipFn = skipFor(j.skip);
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
    const task = (ctx.progress ?? silentProgress).begin(`merging "${source.name}" into "${into.name}" (pass ${j.phase + 1} of ${j.fold.length * 2})`, j.steps!.length, 'changes');
    try {
      runSteps(sides, j.steps!, files.progress, j.phase, undefined, (done) => task.update(done));
    } finally {
      task.end();
    }
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
  await restackBystanders(ctx, j);
  await refreshViews(ctx, j);
  // Their processes' output belongs to the ancestor now, as they do (marked, and kept growing).
  const at = new Date();
  for (const id of j.fold) {
    const w = findById(reg, id);
    adoptOutput(ctx.layout, { id, name: w?.name ?? id }, { id: into.id, name: into.name }, at);
    if (w) dropRunTicket(ctx.layout.home, w.name);
  }
  for (const id of j.fold) removeTree(ctx.layout.worldDir(id));
  // A merged world whose view was not mounted leaves nothing; an alias keeps its directory and stack file.
  for (const id of j.fold) if (!j.aliases.includes(id)) removeWorldLeftovers(ctx.layout, id);
  emptyTrash(files.trash);
  files.remove();
}

/** A reader of one world's own layer only. */
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
