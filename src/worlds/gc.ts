// gc: tidy a store after a crash. Finds what no world owns — dead or unowned mounts, empty mount
// directories, stale daemon stack files, leftovers of finished merges and deletes, directories of
// worlds the graph no longer has (their layers), alias work directories no alias uses and run
// tickets of names no world has (run-ticket.ts; harmless to dist/worldrun, but clutter) — as a
// list of findings first (what --dry-run prints), then removes them. A mount some process still
// uses is kept and named, with the processes, as is everything that depends on it.
import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mountUsers, type MountUser } from '../host/mount-users.js';
import { readMounts, type MountEntry } from '../host/mountinfo.js';
import { isAlive } from '../host/process-identity.js';
import { removeTree } from '../host/remove-tree.js';
import type { Registry } from '../registry/model.js';
import type { WorldsContext } from './context.js';
import { aliasMounts, lazyUnmount, liveDaemon, stopAliases, stopDaemon, worldfsProcessesAt } from './daemon.js';
import { removeMountDir } from './mount-dirs.js';
import { ticketFile } from './run-ticket.js';

export type GarbageKind = 'mount' | 'mount directory' | 'stack file' | 'node journal' | 'journal leftover' | 'world directory' | 'alias work directory' | 'run ticket';

export interface Garbage {
  readonly kind: GarbageKind;
  readonly path: string;
  /** Why it is garbage. */
  readonly why: string;
  /** Set when it is kept: the processes that use it (or what it depends on). */
  readonly keptBecause?: string;
}

interface Finding extends Garbage {
  readonly remove: () => Promise<void> | void;
}

const describeUsers = (users: readonly MountUser[]) => 'in use by ' + users.map((u) => `pid ${u.pid} (${u.command.slice(0, 60)}; its ${u.uses})`).join(', ');

/** Find what no world owns and, unless `dryRun`, remove it. Returns every finding, removed or kept. */
export async function collectGarbage(ctx: WorldsContext, dryRun: boolean): Promise<Garbage[]> {
  const found = findGarbage(ctx, ctx.store.read());
  const claimed = new Set<Finding>();
  if (!dryRun) {
    for (const f of found.filter((x) => x.kind === 'mount' && !x.keptBecause)) await f.remove();
    // The rest only under the registry lock: a world created meanwhile is not garbage.
    const stillGarbage = ctx.store.update((reg) => {
      const ids = new Set(reg.worlds.map((w) => w.id));
      for (const f of found) if (f.kind !== 'mount' && !f.keptBecause && ownedBy(f, ids)) claimed.add(f);
      return { registry: reg, result: found.filter((f) => f.kind !== 'mount' && !f.keptBecause && !claimed.has(f)) };
    });
    for (const f of stillGarbage) await f.remove();
  }
  return found.map((f) => {
    const { remove: _, ...g } = f;
    return claimed.has(f) ? { ...g, keptBecause: 'a world created meanwhile owns it' } : g;
  });
}

/** Whether a finding turned out to belong to a world that exists now (made after it was found). */
function ownedBy(f: Finding, ids: ReadonlySet<string>): boolean {
  // A ticket taken from a world created meanwhile under its name only costs that world's next run Node's start.
  if (f.kind === 'alias work directory' || f.kind === 'journal leftover' || f.kind === 'run ticket') return false;
  const id = /\/(w\d+)(?:\.json(?:\.ok)?)?$/.exec(f.path)?.[1];
  return id !== undefined && ids.has(id);
}

function findGarbage(ctx: WorldsContext, reg: Registry): Finding[] {
  const { layout } = ctx;
  const ids = new Set(reg.worlds.map((w) => w.id));
  const out: Finding[] = [];
  const mounts = readMounts();
  const busyMounts = new Set<string>();

  // Mounts: those of live daemons the graph knows are owned; any other FUSE mount in mnt/, and any
  // dead one a known world or alias recorded, is garbage unless a process uses it.
  const owned = new Set<string>();
  const liveStacks = new Set<string>();
  const aliasWork = new Map<string, Set<string>>();
  for (const w of reg.worlds) {
    const d = liveDaemon(layout.daemonFile(w.id));
    if (d) owned.add(d.mountpoint);
    for (const a of aliasMounts(layout.aliasesFile(w.id))) {
      if (!a.live) continue;
      owned.add(a.mountpoint);
      if (a.stack) {
        liveStacks.add(a.stack);
        const work = workOf(a.stack);
        if (work) (aliasWork.get(w.id) ?? aliasWork.set(w.id, new Set()).get(w.id)!).add(work);
      }
    }
  }
  const mountDirs = join(layout.home, 'mnt');
  const fuseHere = (m: MountEntry) => m.fstype.startsWith('fuse') && m.mountpoint.startsWith(mountDirs + '/');
  const recordedDead = new Set<string>();
  for (const w of reg.worlds) {
    if (deadAt(layout.daemonFile(w.id), mounts)) recordedDead.add(deadAt(layout.daemonFile(w.id), mounts)!);
    for (const a of aliasMounts(layout.aliasesFile(w.id))) if (!a.live) recordedDead.add(a.mountpoint);
  }
  const candidates = new Map<string, MountEntry>();
  for (const m of mounts) if ((fuseHere(m) || recordedDead.has(m.mountpoint)) && !owned.has(m.mountpoint)) candidates.set(m.mountpoint, m);
  for (const m of candidates.values()) {
    const daemons = new Set(worldfsProcessesAt(m.mountpoint).map((p) => p.pid));
    const users = mountUsers(m.dev, new Set([process.pid, ...daemons]));
    const why = recordedDead.has(m.mountpoint) ? 'its worldfs daemon is dead' : 'no world in the graph owns it';
    if (users.length > 0) busyMounts.add(m.mountpoint);
    out.push({ kind: 'mount', path: m.mountpoint, why, ...(users.length > 0 ? { keptBecause: describeUsers(users) } : {}), remove: () => { lazyUnmount(m.mountpoint); removeMountDir(layout, m.mountpoint); } });
  }

  // Directories of worlds the graph no longer has: their layers, logs, records.
  const worldsDir = join(layout.home, 'worlds');
  for (const id of list(worldsDir)) {
    if (ids.has(id)) continue;
    const dir = layout.worldDir(id);
    // Its daemon, if one still runs, is stopped with it — unless processes use its mount.
    const d = liveDaemon(layout.daemonFile(id));
    const dev = d ? mounts.find((m) => m.mountpoint === d.mountpoint)?.dev : undefined;
    const users = d && dev !== undefined && !candidates.has(d.mountpoint) ? mountUsers(dev, new Set([process.pid, d.pid])) : [];
    const busy = d && (busyMounts.has(d.mountpoint) || users.length > 0) ? `its daemon serves ${d.mountpoint}, which is in use` : undefined;
    out.push({
      kind: 'world directory', path: dir, why: 'no world in the graph has this id',
      ...(busy ? { keptBecause: busy } : {}),
      remove: async () => {
        await stopAliases(ctx, id);
        await stopDaemon(layout.daemonFile(id));
        removeTree(dir);
      },
    });
  }

  // Alias work directories of known worlds that no live alias uses.
  for (const w of reg.worlds) {
    const dir = join(layout.worldDir(w.id), 'alias-work');
    for (const name of list(dir)) {
      const p = join(dir, name);
      if (aliasWork.get(w.id)?.has(p)) continue;
      out.push({ kind: 'alias work directory', path: p, why: 'no alias daemon works there', remove: () => rmSync(p, { recursive: true, force: true }) });
    }
  }

  // Empty mount directories of worlds that no longer exist (an existing world's is made again at its next mount anyway).
  const mountedAt = new Set(mounts.map((m) => m.mountpoint));
  for (const name of list(mountDirs)) {
    const p = join(mountDirs, name);
    if (ids.has(name) || mountedAt.has(p) || candidates.has(p) || !isEmptyDir(p)) continue;
    out.push({ kind: 'mount directory', path: p, why: 'empty, and no world has this id', remove: () => { removeMountDir(layout, p); } });
  }

  // Stack files and node journals of worlds that no longer exist and that no live daemon uses.
  const stacksDir = join(layout.home, 'stacks');
  for (const name of list(stacksDir)) {
    const id = /^\.?(.+?)\.(?:json|nodes)(?:\.ok|\..*\.tmp)?$/.exec(name)?.[1];
    const p = join(stacksDir, name);
    // A node journal of a world whose daemon died for good (no keeper started another): its connection is gone.
    if (id !== undefined && ids.has(id) && name === `${id}.nodes` && !liveDaemon(layout.daemonFile(id)) && !liveStacks.has(layout.stackFile(id))) {
      out.push({ kind: 'node journal', path: p, why: 'its daemon is gone: no connection left to take over', remove: () => rmSync(p, { force: true }) });
      continue;
    }
    if (id === undefined || ids.has(id) || liveStacks.has(layout.stackFile(id))) continue;
    out.push({ kind: 'stack file', path: p, why: 'no world has this id and no daemon reads it', remove: () => rmSync(p, { force: true }) });
  }

  // Run tickets (and their temp files) of names no world has: a delete that crashed before dropping one.
  const tickets = new Set(reg.worlds.map((w) => ticketFile(layout.home, w.name)));
  const ticketsDir = join(layout.home, 'tickets');
  for (const p of list(ticketsDir).map((file) => join(ticketsDir, file))) {
    if (tickets.has(p)) continue;
    out.push({ kind: 'run ticket', path: p, why: p.endsWith('.tmp') ? 'a ticket write that never finished' : 'no world has this name', remove: () => rmSync(p, { force: true }) });
  }

  // Journal leftovers: a finished merge's progress and trash (a merge in progress has merge.json,
  // finished by recover() before gc), temp files, and the owner files of deletes whose worldctl died.
  const journal = layout.journalDir;
  if (!existsSync(join(journal, 'merge.json'))) {
    for (const name of list(journal)) {
      const p = join(journal, name);
      const del = /^delete-(\d+)$/.exec(name);
      if (del) {
        const [pid, start] = readFileSync(p, 'utf8').trim().split(' ');
        if (isAlive({ pid: Number(pid), start: start ?? '' })) continue;
      } else if (name !== 'merge.progress' && name !== 'trash' && !/^\.merge\.json\..*\.tmp$/.test(name)) continue;
      out.push({ kind: 'journal leftover', path: p, why: del ? 'its deleting worldctl is gone' : 'left by a finished merge', remove: () => rmSync(p, { recursive: true, force: true }) });
    }
  }
  return out;
}

/** The mountpoint of a recorded daemon that died, if its mount is still there. */
function deadAt(recordFile: string, mounts: readonly MountEntry[]): string | undefined {
  if (!existsSync(recordFile) || liveDaemon(recordFile)) return undefined;
  const m = /^\d+ \d+ (.*)$/s.exec(readFileSync(recordFile, 'utf8').trim());
  return m && mounts.some((x) => x.mountpoint === m[1] && x.fstype.startsWith('fuse')) ? m[1] : undefined;
}

function workOf(stackFile: string): string | undefined {
  try {
    return (JSON.parse(readFileSync(stackFile, 'utf8')) as { workdir?: string }).workdir;
  } catch {
    return undefined;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isEmptyDir(p: string): boolean {
  try {
    return statSync(p).isDirectory() && readdirSync(p).length === 0;
  } catch {
    return false;
  }
}
