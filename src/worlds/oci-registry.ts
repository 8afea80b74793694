// push / pull: a world and its ancestors through an OCI registry, with skopeo as the client. push
// exports an image layout into the store's scratch space and copies it to the reference; pull
// copies the reference into a layout there and imports it. The scratch directory is always removed.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { WorldError } from '../core/world-error.js';
import { ImageFormatError } from '../oci/image-json.js';
import { readLayout } from '../oci/layout.js';
import { repoNameOf, skopeoCopy, SkopeoError, tagOf, transportRef, type CopyOptions } from '../oci/skopeo.js';
import type { World } from '../registry/model.js';
import type { WorldsContext } from './context.js';
import { exportWorldImage, type ImageExport } from './oci-export.js';
import { importLayers } from './oci-import.js';
import { ensurePrivateStore } from './private-store.js';

function scratch(ctx: WorldsContext, what: string): string {
  ensurePrivateStore(ctx.layout.home);
  const dir = join(ctx.layout.home, 'worlds', `.${what}.${process.pid}.${Math.random().toString(36).slice(2)}`);
  mkdirSync(dir, { mode: 0o700 });
  return dir;
}

function registryError(e: unknown): unknown {
  if (!(e instanceof SkopeoError)) return e;
  return e.missing
    ? new WorldError('IO', 'skopeo, the registry client worldctl uses, is not installed', { cause: e, hint: 'apt-get install skopeo' })
    : new WorldError('IO', e.message, { cause: e, hint: 'check the reference, the registry address and credentials (skopeo login); a plain-HTTP registry needs --tls-verify=false' });
}

/** Push world `name` (and its ancestors, the base only with `withBase`) to registry reference `ref`. */
export async function pushWorld(ctx: WorldsContext, name: string, ref: string, opts: CopyOptions & { withBase?: boolean } = {}): Promise<ImageExport> {
  const dir = scratch(ctx, 'push');
  try {
    const tag = tagOf(ref);
    const image = await exportWorldImage(ctx, name, dir, { withBase: opts.withBase, tag });
    await skopeoCopy(`oci:${dir}:${tag}`, transportRef(ref), opts);
    return image;
  } catch (e) {
    throw registryError(e);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Pull `ref` into new worlds (bottom first), the top one called `name` (default: the repository's name). */
export async function pullWorld(ctx: WorldsContext, ref: string, opts: CopyOptions & { name?: string; from?: readonly string[] } = {}): Promise<World[]> {
  const dir = scratch(ctx, 'pull');
  try {
    const tag = tagOf(ref);
    await skopeoCopy(transportRef(ref), `oci:${dir}:${tag}`, opts);
    return await importImageDir(ctx, dir, { name: opts.name ?? repoNameOf(ref), from: opts.from, tag });
  } catch (e) {
    throw registryError(e);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Import the OCI image layout at `dir` (the image tagged `tag`, or its only one). */
export async function importImageDir(ctx: WorldsContext, dir: string, opts: { name?: string; from?: readonly string[]; tag?: string }): Promise<World[]> {
  let layers;
  try {
    layers = readLayout(dir, opts.tag);
  } catch (e) {
    if (e instanceof ImageFormatError) throw new WorldError('BAD_LAYER', `${dir} is not an image worldctl can import: ${e.message}; nothing was imported`, { cause: e });
    throw e;
  }
  const name = opts.name ?? layers[layers.length - 1]?.world;
  if (name === undefined) throw new WorldError('BAD_NAME', `the image at ${dir} does not say which world it was; name the new world with --name`);
  return importLayers(ctx, layers.map((l) => ({ file: l.file, diffId: l.diffId, ...(l.world !== undefined ? { world: l.world } : {}) })), name, opts.from);
}
