// The world service: create / delete / merge / list contents, plus the graph, mounts and init.
// Orchestrates src/registry (the XML graph), src/host (layers) and src/core (pure decisions).
// Every mutating call first finishes an operation a killed worldctl left behind.
import { accessSync, constants, existsSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, resolve as resolvePath } from 'node:path';
import { c3Lineage, type Lineage } from './core/lineage.js';
import { validateWorldName } from './core/names.js';
import { whiteoutFormat } from './core/whiteout/index.js';
import { WorldError } from './core/world-error.js';
import { findById, initialRegistry, isAncestor, type Registry, type World } from './registry/model.js';
import { RegistryStore } from './registry/store.js';
import { worldContents, type WorldContents } from './worlds/contents.js';
import type { WorldsContext } from './worlds/context.js';
import { stopWorld, type StopResult } from './worlds/stop.js';
import { reviveWorld, type ReviveResult } from './worlds/revive.js';
import { chooseMembership, type Membership } from './ns/membership.js';
import { createWorld, type CreateOptions } from './worlds/create.js';
import { deleteWorld, finishDeletes } from './worlds/delete.js';
import { aliasMounts, liveDaemon } from './worlds/daemon.js';
import { ensurePrivateStore } from './worlds/private-store.js';
import { StoreLayout } from './worlds/layout.js';
import { mergeWorld, mountWorldAt, resumeMerge, type MergeResult } from './worlds/merge.js';
import { listProcesses, runInWorld, type RunRequest } from './worlds/processes.js';
import { followLogs, worldLogs, type FollowOptions } from './worlds/logs.js';
import { collectGarbage, type Garbage } from './worlds/gc.js';
import type { ProcessInfo } from './worlds/contents.js';
import { mustFindByName } from './worlds/context.js';
import { mountWorld, umountWorld, type UmountResult } from './worlds/mounts.js';
import type { ImageExport } from './worlds/oci-export.js';
import { worldDiff } from './worlds/world-diff.js';
import { loginAccount } from './worlds/login-shell.js';
import type { Account } from './core/passwd.js';
import type { DiffItem } from './core/content-diff.js';
import type { ViewPath } from './core/paths.js';
import type { ExportStats } from './oci/layer-export.js';
import type { Writable } from 'node:stream';
import type { Progress } from './progress.js';

/** mkdir -p the store home, reporting a read-only filesystem as such (Node says ENOENT for it). */
function makeHome(home: string): void {
  try {
    mkdirSync(home, { recursive: true });
  } catch (e) {
    let dir = home;
    while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
    try {
      accessSync(dir, constants.W_OK);
    } catch (w) {
      if ((w as { code?: string }).code === 'EROFS') {
        throw new WorldError('READ_ONLY', `cannot create the store at ${home}: ${dir} is on a read-only filesystem; choose another --home`, { cause: e });
      }
    }
    throw new WorldError('IO', `cannot create the store at ${home}: ${(e as Error).message}`, { cause: e });
  }
}

/** What `delete` removed: the worlds (the deepest first, the named one last) and the processes it ended. */
export interface DeleteResult {
  readonly worlds: readonly { readonly id: string; readonly name: string }[];
  readonly processes: number;
}

export interface WorldSummary extends World {
  readonly mountpoint?: string;
  /** Mounts of worlds merged into this one, still served as aliases of its view (`umount` clears them). */
  readonly aliases?: readonly { readonly mountpoint: string; readonly live: boolean }[];
}

/**
 * The OCI side (tar streams, skopeo) loaded on first use: `worldctl run`, paid by every command in
 * a world, never evaluates it (~100 KB of the bundle).
 */
const oci = {
  export: () => import('./worlds/oci-export.js'),
  import: () => import('./worlds/oci-import.js'),
  registry: () => import('./worlds/oci-registry.js'),
};

/** A short key naming a store on this machine (cgroups are machine-wide; world ids are per store). */
export function storeKey(home: string): string {
  return createHash('sha256').update(resolvePath(home)).digest('hex').slice(0, 10);
}

export class Worlds {
  readonly ctx: WorldsContext;
  constructor(readonly home: string, options: { lineage?: Lineage; lockTimeoutMs?: number; membership?: Membership; progress?: Progress } = {}) {
    const layout = new StoreLayout(home);
    this.ctx = {
      store: new RegistryStore(home, { lockTimeoutMs: options.lockTimeoutMs }),
      layout,
      lineage: options.lineage ?? c3Lineage,
      membership: options.membership ?? chooseMembership(storeKey(home), (id) => layout.pidnsFile(id)),
      ...(options.progress ? { progress: options.progress } : {}),
    };
  }

  /** Create the store with its base world (default base: /, default whiteout format: aufs). */
  init(base = '/', whiteout = 'aufs'): World {
    whiteoutFormat(whiteout); // refuse unknown formats early
    let real: string;
    try {
      real = realpathSync(base);
    } catch {
      throw new WorldError('NO_SUCH_WORLD', `base directory ${base} does not exist`);
    }
    if (!statSync(real).isDirectory()) throw new WorldError('BAD_NAME', `base ${base} is not a directory`);
    makeHome(this.home);
    const reg = initialRegistry({ name: validateWorldName('base'), created: new Date().toISOString(), whiteout, layer: real });
    this.ctx.store.create(reg);
    ensurePrivateStore(this.home);
    return reg.worlds[0]!;
  }

  /** Finish whatever a killed worldctl left: a merge (rolled forward), deletions. */
  async recover(): Promise<void> {
    await resumeMerge(this.ctx);
    await finishDeletes(this.ctx);
  }

  registry(): Registry {
    return this.ctx.store.read();
  }

  list(): WorldSummary[] {
    return this.registry().worlds.map((w) => {
      const mountpoint = liveDaemon(this.ctx.layout.daemonFile(w.id))?.mountpoint;
      const aliases = aliasMounts(this.ctx.layout.aliasesFile(w.id)).map((a) => ({ mountpoint: a.mountpoint, live: a.live }));
      return { ...w, ...(mountpoint ? { mountpoint } : {}), ...(aliases.length > 0 ? { aliases } : {}) };
    });
  }

  async create(name: string, parents: readonly string[] = [], opts: CreateOptions = {}): Promise<World> {
    await this.recover();
    return createWorld(this.ctx, name, parents, opts);
  }

  /** Delete a world (and, `recursive`, its descendants): what went, and how many processes ended. */
  async delete(name: string, recursive = false): Promise<DeleteResult> {
    await this.recover();
    // Names and processes are read before: afterwards the worlds are gone.
    const before = this.registry();
    const top = mustFindByName(before, name);
    const doomed = before.worlds.filter((w) => w.id === top.id || (recursive && isAncestor(before, top.id, w.id)));
    const processes = new Map(doomed.map((w) => [w.id, listProcesses(this.ctx, w.id).length] as const));
    const ids = await deleteWorld(this.ctx, name, recursive);
    const worlds = ids.map((id) => ({ id, name: findById(before, id)?.name ?? id }));
    return { worlds, processes: ids.reduce((n, id) => n + (processes.get(id) ?? 0), 0) };
  }

  async merge(child: string, into: string, policy = 'fail'): Promise<MergeResult> {
    return mergeWorld(this.ctx, child, into, policy); // resumes a killed merge itself
  }

  async contents(name: string): Promise<WorldContents> {
    await this.recover();
    return worldContents(this.ctx, name);
  }

  /** What the world changed, as text diffs and summary lines, at or under `filters` (all: []). */
  async diff(name: string, filters: readonly ViewPath[] = []): Promise<DiffItem[]> {
    await this.recover();
    return worldDiff(this.ctx, name, filters);
  }

  async mount(name: string, at?: string): Promise<string> {
    await this.recover();
    return mountWorld(this.ctx, name, at);
  }

  async umount(name: string): Promise<UmountResult> {
    return umountWorld(this.ctx, name);
  }

  /** Run a command in a world (starting its init and view when needed). */
  async run(name: string, req: RunRequest): Promise<number> {
    await this.recover();
    return runInWorld(this.ctx, name, req, (w) => mountWorldAt(this.ctx, w, this.ctx.layout.defaultMount(w.id)).then(() => this.ctx.layout.defaultMount(w.id)));
  }

  /** The account `shell` starts (uid 0's in the world's /etc/passwd, else /bin/sh). */
  loginAccount(name: string): Account {
    return loginAccount(this.ctx, name);
  }

  /** End a world's processes and views, keeping its files. */
  async stop(name: string): Promise<StopResult> {
    await this.recover();
    return stopWorld(this.ctx, name);
  }

  /** Bring back a world whose daemon died, ending only the processes that use the dead view (src/worlds/revive.ts). */
  async revive(name: string): Promise<ReviveResult> {
    await this.recover();
    return reviveWorld(this.ctx, name);
  }

  /** How many processes each world runs, by id (0 for a world with none). */
  processCounts(): Map<string, number> {
    return new Map(this.registry().worlds.map((w) => [w.id, w.base ? 0 : listProcesses(this.ctx, w.id).length] as const));
  }

  /** What a world's detached processes printed (its own, then that of worlds merged into it). */
  async logs(name: string): Promise<string> {
    await this.recover();
    return worldLogs(this.ctx, name);
  }

  /** Write a world's output and follow it until the world is gone (or `opts.signal` aborts). */
  async followLogs(name: string, write: (s: string) => void, opts: FollowOptions = {}): Promise<'gone' | 'aborted'> {
    await this.recover();
    return followLogs(this.ctx, name, write, opts);
  }

  /** Tidy the store after a crash: remove what no world owns (gc.ts); with `dryRun`, only say what. */
  async gc(dryRun = false): Promise<Garbage[]> {
    await this.recover();
    return collectGarbage(this.ctx, dryRun);
  }

  /** The processes of a world. */
  async ps(name: string): Promise<ProcessInfo[]> {
    await this.recover();
    return listProcesses(this.ctx, mustFindByName(this.registry(), name).id);
  }

  /** The world's own layer as an OCI layer tar, to `file` (atomically) or a stream (docs/oci.md). */
  async exportLayer(name: string, to: string | Writable): Promise<ExportStats> {
    await this.recover();
    const { exportWorldLayer, exportWorldLayerFile } = await oci.export();
    return typeof to === 'string' ? exportWorldLayerFile(this.ctx, name, to) : exportWorldLayer(this.ctx, name, to);
  }

  /** The world and its ancestors (the base with `withBase`) as an OCI image layout at `dir`. */
  async exportImage(name: string, dir: string, opts: { withBase?: boolean; tag?: string } = {}): Promise<ImageExport> {
    await this.recover();
    return (await oci.export()).exportWorldImage(this.ctx, name, dir, opts);
  }

  /** A layer tar as a new world `name` over `from` (default: the base); nothing on refusal. */
  async importLayer(file: string, name: string, from: readonly string[] = []): Promise<World[]> {
    await this.recover();
    return (await oci.import()).importLayers(this.ctx, [{ file }], name, from);
  }

  /** An OCI image layout as new worlds, one per layer, the top one `name` (default: the image's). */
  async importImage(dir: string, opts: { name?: string; from?: readonly string[]; tag?: string } = {}): Promise<World[]> {
    await this.recover();
    return (await oci.registry()).importImageDir(this.ctx, dir, opts);
  }

  /** Push the world (and its ancestors) to a registry reference with skopeo. */
  async push(name: string, ref: string, opts: { tlsVerify?: boolean; withBase?: boolean } = {}): Promise<ImageExport> {
    await this.recover();
    return (await oci.registry()).pushWorld(this.ctx, name, ref, opts);
  }

  /** Pull a registry reference into new worlds with skopeo. */
  async pull(ref: string, opts: { tlsVerify?: boolean; name?: string; from?: readonly string[] } = {}): Promise<World[]> {
    await this.recover();
    return (await oci.registry()).pullWorld(this.ctx, ref, opts);
  }
}
