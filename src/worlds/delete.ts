// delete: stop the world's daemon, remove its files, drop it from the graph. The registry state
// "deleting" is the intent: once set, any later worldctl call finishes the job (idempotent steps)
// — unless the deleting worldctl still runs (journal/delete-<pid> names it): then others see the
// worlds as busy instead of racing it.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { removeTree } from '../host/remove-tree.js';
import { dropRunTicket } from './run-ticket.js';
import { isAlive, refOf } from '../host/process-identity.js';
import { writeFileAtomic } from '../registry/atomic-file.js';
import { WorldError } from '../core/world-error.js';
import { children, findById, removeWorld, replaceWorld, type Registry, type World } from '../registry/model.js';
import { mustBeActive, mustFindByName, type WorldsContext } from './context.js';
import { deadMount, liveDaemon, stopAliases, stopDaemon } from './daemon.js';
import { removeViewLeftovers } from './mount-dirs.js';
import { stopProcesses } from './processes.js';

/** Every descendant of `id`, deepest first, then `id` itself. */
function subtree(reg: Registry, id: string): World[] {
  const seen = new Set<string>();
  const out: World[] = [];
  const visit = (w: string) => {
    for (const c of children(reg, w)) visit(c.id);
    if (!seen.has(w)) { seen.add(w); out.push(findById(reg, w)!); }
  };
  visit(id);
  return out;
}

export async function deleteWorld(ctx: WorldsContext, name: string, recursive: boolean): Promise<string[]> {
  const victims = ctx.store.update((reg) => {
    const w = mustFindByName(reg, name);
    if (w.base) throw new WorldError('IS_BASE', `"${w.name}" is the base world, the read-only bottom of every world; it cannot be deleted`);
    const kids = children(reg, w.id);
    if (kids.length > 0 && !recursive) {
      throw new WorldError('HAS_CHILDREN', `"${w.name}" has child worlds (${kids.map((k) => `"${k.name}"`).join(', ')}); ` +
        'delete them first, merge them, or pass --recursive to delete them too');
    }
    const all = subtree(reg, w.id);
    for (const v of all) if (v.state === 'merging') mustBeActive(v);
    let next = reg;
    for (const v of all) next = replaceWorld(next, { ...v, state: 'deleting' });
    return { registry: next, result: all.map((v) => v.id) };
  });
  const me = refOf(process.pid)!;
  const owner = join(ctx.layout.journalDir, `delete-${me.pid}`);
  writeFileAtomic(owner, `${me.pid} ${me.start}\n`);
  try {
    await finishDeletes(ctx, victims);
  } finally {
    rmSync(owner, { force: true });
  }
  return victims;
}

/** Whether another worldctl is deleting worlds right now (its owner file names a live process). */
function deleteInProgress(journalDir: string): boolean {
  if (!existsSync(journalDir)) return false;
  for (const f of readdirSync(journalDir).filter((n) => n.startsWith('delete-'))) {
    const [pid, start] = readFileSync(join(journalDir, f), 'utf8').trim().split(' ');
    const ref = { pid: Number(pid), start: start ?? '' };
    if (ref.pid !== process.pid && isAlive(ref)) return true;
    if (!isAlive(ref)) rmSync(join(journalDir, f), { force: true }); // its deleter died: we finish
  }
  return false;
}

/** Finish deleting worlds marked "deleting" (all of them when `ids` is not given). */
export async function finishDeletes(ctx: WorldsContext, ids?: readonly string[]): Promise<void> {
  if (ids === undefined && deleteInProgress(ctx.layout.journalDir)) return; // its owner finishes it
  const reg = ctx.store.read();
  const todo = (ids ?? reg.worlds.filter((w) => w.state === 'deleting').map((w) => w.id)).filter((id) => findById(reg, id));
  if (todo.length === 0) return;
  for (const id of todo) {
    await stopProcesses(ctx, id);
    const aliases = await stopAliases(ctx, id);
    const file = ctx.layout.daemonFile(id);
    const mountpoint = liveDaemon(file)?.mountpoint ?? deadMount(file);
    await stopDaemon(file);
    removeTree(ctx.layout.worldDir(id));
    dropRunTicket(ctx.layout.home, findById(reg, id)!.name);
    // Nothing of it stays: its mount directories (its own, its aliases') and daemon stack files.
    removeViewLeftovers(ctx.layout, id, mountpoint, aliases);
  }
  ctx.store.update((r) => {
    let next = r;
    // Leaves first: removeWorld refuses a world that still has children.
    let progress = true;
    while (progress) {
      progress = false;
      for (const id of todo) {
        if (findById(next, id) && children(next, id).length === 0) {
          next = removeWorld(next, id);
          progress = true;
        }
      }
    }
    return { registry: next, result: undefined };
  });
}
