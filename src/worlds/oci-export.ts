// export: a world's own layer as an OCI layer tar, or the world and its ancestors as an OCI image
// layout (one layer each, bottom first in C3 order; the base only when asked). Each layer is
// exported over the layers below it in *this* world's linearised stack, so the image shows what
// the world shows, even for a world with several parents.
import { createWriteStream, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { whiteoutFormat } from '../core/whiteout/index.js';
import { WorldError } from '../core/world-error.js';
import { HostLayers } from '../host/layer-probe.js';
import { readMounts } from '../host/mountinfo.js';
import { exportLayer, type ExportStats } from '../oci/layer-export.js';
import { finishLayout, startLayout, writeBlob } from '../oci/layout.js';
import type { LayerBlob } from '../oci/image-json.js';
import type { World } from '../registry/model.js';
import { mustFindByName, type WorldsContext } from './context.js';
import { lineageOf, prunedPaths } from './stack.js';

/** The stack of `name`'s world from position `i` of its lineage down, for exporting layer `i`. */
function stackFrom(ctx: WorldsContext, lineage: readonly World[], i: number): { layers: HostLayers; emptied: string[] } {
  const base = lineage[lineage.length - 1]!;
  const roots = lineage.slice(i).map((w) => ctx.layout.layer(w));
  const pruned = prunedPaths(ctx.layout.layer(base), ctx.layout.home);
  const layers = new HostLayers(roots, whiteoutFormat(lineage[0]!.whiteout), pruned);
  const fuse = readMounts().filter((m) => m.fstype.startsWith('fuse')).map((m) => m.mountpoint);
  layers.setHiddenMounts(fuse);
  // Exporting the base itself (layer 0 of its slice): keep out what a view never shows of it.
  const baseRoot = ctx.layout.layer(base);
  const inBase = fuse.filter((m) => baseRoot === '/' || m.startsWith(baseRoot + '/')).map((m) => (baseRoot === '/' ? m : m.slice(baseRoot.length)));
  return { layers, emptied: lineage[i]!.base ? [...pruned, ...inBase] : [] };
}

function lineageByName(ctx: WorldsContext, name: string): World[] {
  const reg = ctx.store.read();
  const w = mustFindByName(reg, name);
  return lineageOf(reg, w.id, ctx.lineage);
}

/** Write world `name`'s own layer as an OCI layer tar to `out`. */
export async function exportWorldLayer(ctx: WorldsContext, name: string, out: Writable): Promise<ExportStats> {
  const lineage = lineageByName(ctx, name);
  const { layers, emptied } = stackFrom(ctx, lineage, 0);
  try {
    return await exportLayer(layers, out, { emptied });
  } catch (e) {
    throw asWorldError(e, `export ${name}`);
  }
}

/** Write world `name`'s own layer to `file` (through a temp file renamed into place). */
export async function exportWorldLayerFile(ctx: WorldsContext, name: string, file: string): Promise<ExportStats> {
  const tmp = join(dirname(file), `.${process.pid}.export.tmp`);
  try {
    const stats = await exportWorldLayer(ctx, name, createWriteStream(tmp, { flags: 'wx', mode: 0o600 }));
    renameSync(tmp, file);
    return stats;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw asWorldError(e, `export ${name} to ${file}`);
  }
}

/** What an image export wrote: its layers, bottom first. */
export interface ImageExport {
  readonly layers: readonly LayerBlob[];
  readonly manifest: string;
}

/**
 * Write world `name` and its ancestors as an OCI image layout at `dir`, tagged `tag`: one layer
 * per world, bottom first (the reverse of the C3 lineage); the base only with `withBase`.
 */
export async function exportWorldImage(ctx: WorldsContext, name: string, dir: string, opts: { withBase?: boolean; tag?: string } = {}): Promise<ImageExport> {
  const lineage = lineageByName(ctx, name);
  if (lineage[0]!.base && !opts.withBase) {
    throw new WorldError('IS_BASE', `"${name}" is the base world; its tree is exported only with --with-base`);
  }
  try {
    startLayout(dir);
    const blobs: LayerBlob[] = [];
    for (let i = lineage.length - 1; i >= 0; i--) {
      if (lineage[i]!.base && !opts.withBase) continue;
      const { layers, emptied } = stackFrom(ctx, lineage, i);
      const blob = await writeBlob(dir, (out) => exportLayer(layers, out, { emptied }));
      blobs.push({ ...blob, world: lineage[i]!.name });
    }
    const manifest = finishLayout(dir, blobs, opts.tag ?? 'latest');
    return { layers: blobs, manifest: manifest.digest };
  } catch (e) {
    throw asWorldError(e, `export ${name} as an image at ${dir}`);
  }
}

/** Failures of the disk turned into the CLI's currency; WorldErrors pass through. */
export function asWorldError(e: unknown, what: string): unknown {
  if (e instanceof WorldError) return e;
  const code = (e as { code?: string }).code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new WorldError('NO_SPACE', `cannot ${what}: no space left (${(e as Error).message})`, { cause: e });
  if (typeof code === 'string' && code.startsWith('E')) return new WorldError('IO', `cannot ${what}: ${(e as Error).message}`, { cause: e });
  return e;
}
