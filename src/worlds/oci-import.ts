// import: OCI layer tars become new worlds, one per layer, each the child of the one below it (the
// bottom one a child of --from, else of the base). All-or-nothing: every layer is read and planned
// (src/oci/import-plan.ts) and the free space checked before anything is written; layers are
// extracted into a staging directory of the store, and only once all are complete are they moved
// into place and registered in one registry update. Any failure removes the staging directory.
import { lstatSync, mkdirSync, readdirSync, renameSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { validateWorldName } from '../core/names.js';
import { toViewPath } from '../core/paths.js';
import { resolve } from '../core/resolve.js';
import { whiteoutFormat } from '../core/whiteout/index.js';
import { WorldError } from '../core/world-error.js';
import { LayerProblems, planImport, type ImportPlan, type Meta } from '../oci/import-plan.js';
import { extractLayer } from '../oci/layer-import.js';
import { readHeaders, TarReadError } from '../oci/tar-read.js';
import { addWorld, findByName, nextWorldId, type World } from '../registry/model.js';
import { mustBeActive, mustFindByName, type WorldsContext } from './context.js';
import { asWorldError } from './oci-export.js';
import { ensurePrivateStore } from './private-store.js';
import { hostStack, lineageOf } from './stack.js';
import { StoreLayout } from './layout.js';

/** One layer to import: its file, the diff_id it must have (images), the world it was. */
export interface LayerSource {
  readonly file: string;
  readonly diffId?: string;
  readonly world?: string;
}

/** Bytes each entry costs beyond its data (an inode, a directory entry): a conservative guess. */
const PER_ENTRY = 4096;

/** Names of the new worlds, bottom first: the top one is `name`, the others `name~<world or n>`. */
export function importNames(name: string, layers: readonly LayerSource[]): string[] {
  return layers.map((l, i) => (i === layers.length - 1 ? name : `${name}~${l.world ?? i + 1}`)).map(validateWorldName);
}

/** Import `layers` (bottom first) as new worlds over `from` (default: the base). The new worlds, bottom first. */
export async function importLayers(ctx: WorldsContext, layers: readonly LayerSource[], name: string, from: readonly string[] = []): Promise<World[]> {
  if (layers.length === 0) throw new WorldError('BAD_LAYER', 'the image has no layers; nothing to import');
  const names = importNames(name, layers);
  const reg = ctx.store.read();
  for (const n of names) if (findByName(reg, n)) throw new WorldError('EXISTS', `a world named "${n}" already exists; choose another name`, { hint: 'pass --name NAME' });
  const parents = from.length > 0 ? from.map((p) => mustFindByName(reg, p)) : [reg.worlds.find((w) => w.base)!];
  for (const p of parents) mustBeActive(p);
  const format = whiteoutFormat(parents[0]!.whiteout);
  const isRoot = process.getuid?.() === 0;

  // 1. Read and plan every layer: a bad entry anywhere refuses the whole import.
  const plans: ImportPlan[] = [];
  const planned: string[] = [];
  for (const l of layers) {
    const { entries, diffId } = await readLayer(l.file);
    planned.push(diffId);
    if (l.diffId !== undefined && l.diffId !== diffId) {
      throw new WorldError('BAD_LAYER', `layer ${l.file} has digest ${diffId} but the image says ${l.diffId}: the blob is corrupt; nothing was imported`);
    }
    try {
      plans.push(planImport(entries, format, { canMknod: isRoot }));
    } catch (e) {
      if (e instanceof LayerProblems) throw new WorldError('BAD_LAYER', `refusing ${l.file}: ${e.message}; nothing was imported`, { cause: e });
      throw e;
    }
  }
  // 2. Space: the data plus a block per entry must fit in what the store's filesystem has free.
  const worldsDir = join(ctx.layout.home, 'worlds');
  ensurePrivateStore(ctx.layout.home);
  const need = plans.reduce((s, p) => s + p.dataBytes + PER_ENTRY * (p.entryCount + 1), 0);
  const fs = statfsSync(worldsDir);
  const free = fs.bavail * fs.bsize;
  if (need > free) {
    throw new WorldError('NO_SPACE', `the import needs about ${need} bytes but the store's filesystem (${worldsDir}) has ${free} free; nothing was imported`, { hint: 'free some space or import into another --home' });
  }
  // 3. Extract into staging, 4. move into place and register, all or nothing.
  sweepStaging(worldsDir);
  const staging = join(worldsDir, `.import.${process.pid}.${Math.random().toString(36).slice(2)}`);
  mkdirSync(staging, { mode: 0o700 });
  const placed: string[] = [];
  try {
    const implicitMeta = viewMeta(ctx, parents[0]!.id);
    for (let i = 0; i < layers.length; i++) {
      const layer = join(staging, String(i), 'layer');
      mkdirSync(layer, { recursive: true, mode: 0o755 });
      const diffId = await extractLayer(layers[i]!.file, plans[i]!, { layer, work: join(staging, String(i), 'work'), canChown: isRoot, implicitMeta });
      // The plan was made from the first read: a file changed since would be extracted by the wrong plan.
      if (diffId !== planned[i]) throw new WorldError('BAD_LAYER', `layer ${layers[i]!.file} changed while it was imported; nothing was imported`);
    }
    return ctx.store.update((r) => {
      let next = r;
      const made: World[] = [];
      for (let i = 0; i < layers.length; i++) {
        if (findByName(next, names[i]!)) throw new WorldError('EXISTS', `a world named "${names[i]}" already exists; choose another name`);
        const id = nextWorldId(next);
        const world: World = {
          id, name: names[i]!, parents: i === 0 ? parents.map((p) => p.id) : [made[i - 1]!.id], created: new Date().toISOString(),
          state: 'active', whiteout: format.id, layer: StoreLayout.layerRel(id), ...(parents.some((p) => p.nosuid) ? { nosuid: true } : {}),
        };
        next = addWorld(next, world);
        if (i === 0) lineageOf(next, id, ctx.lineage); // refuses parents with no consistent order
        const dir = ctx.layout.worldDir(id);
        mkdirSync(dir, { recursive: true, mode: 0o755 });
        placed.push(dir);
        renameSync(join(staging, String(i), 'layer'), ctx.layout.layer(world));
        mkdirSync(ctx.layout.work(id), { mode: 0o700 });
        made.push(world);
      }
      return { registry: next, result: made };
    });
  } catch (e) {
    for (const d of placed) rmSync(d, { recursive: true, force: true });
    throw asWorldError(e, `import ${layers.map((l) => l.file).join(', ')}`);
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

async function readLayer(file: string): Promise<Awaited<ReturnType<typeof readHeaders>>> {
  try {
    return await readHeaders(file);
  } catch (e) {
    if (e instanceof TarReadError) throw new WorldError('BAD_LAYER', `${e.message}; nothing was imported`, { cause: e });
    throw asWorldError(e, `read ${file}`);
  }
}

/** Directories a layer only implies take their metadata from what the parent's view shows there. */
function viewMeta(ctx: WorldsContext, parentId: string): (rel: string) => Meta | undefined {
  const layers = hostStack(ctx.store.read(), parentId, ctx.layout, ctx.lineage);
  return (rel) => {
    try {
      const r = resolve(toViewPath('/' + rel), layers, layers.format);
      if (r.kind !== 'found' || r.node.entry.kind !== 'dir') return undefined;
      const b = r.node.branches[0]!;
      const st = lstatSync(layers.hostPath(b.layer, b.rel), { bigint: true });
      return { mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid), mtimeNs: st.mtimeNs, xattrs: new Map() };
    } catch {
      return undefined;
    }
  };
}

/** Remove staging directories of imports whose process is gone (killed mid-import). */
function sweepStaging(worldsDir: string): void {
  for (const n of readdirSync(worldsDir)) {
    const m = /^\.import\.(\d+)\./.exec(n);
    if (!m) continue;
    try {
      process.kill(Number(m[1]), 0);
    } catch (e) {
      if ((e as { code?: string }).code === 'ESRCH') rmSync(join(worldsDir, n), { recursive: true, force: true });
    }
  }
}
