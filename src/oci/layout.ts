// An OCI image layout directory on disk (image-spec image-layout.md): `oci-layout`, `index.json`
// and content-addressed `blobs/sha256/<hex>`. Writes blobs through a temp file renamed to its
// digest; reads the manifest and config of one tagged image.
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Transform, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ImageFormatError, imageConfig, imageIndex, imageManifest, layersOf, MEDIA, pickManifest, type Descriptor, type LayerBlob, type LayerRef } from './image-json.js';

/** The path of a blob in the layout at `dir`. */
export function blobPath(dir: string, digest: string): string {
  const [alg, hex] = digest.split(':');
  if (alg !== 'sha256' || !/^[0-9a-f]{64}$/.test(hex ?? '')) throw new ImageFormatError(`not a sha256 digest: ${JSON.stringify(digest)}`);
  return join(dir, 'blobs', 'sha256', hex!);
}

/** Start a layout at `dir` (created if missing; an existing index.json is replaced at the end). */
export function startLayout(dir: string): void {
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }) + '\n');
}

/** Write a blob with `write(stream)` into the layout, hashing it on the way: its digest and size. */
export async function writeBlob(dir: string, write: (out: Writable) => Promise<unknown>): Promise<{ digest: string; size: number }> {
  const tmp = join(dir, 'blobs', 'sha256', `.tmp.${process.pid}.${Math.random().toString(36).slice(2)}`);
  const hash = createHash('sha256');
  let size = 0;
  const tee = new Transform({ transform(chunk: Buffer, _enc, cb) { hash.update(chunk); size += chunk.length; cb(null, chunk); } });
  const file = createWriteStream(tmp, { flags: 'wx', mode: 0o644 });
  try {
    await Promise.all([write(tee), pipeline(tee, file)]);
  } catch (e) {
    tee.destroy();
    rmSync(tmp, { force: true });
    throw e;
  }
  const digest = 'sha256:' + hash.digest('hex');
  renameSync(tmp, blobPath(dir, digest));
  return { digest, size };
}

function writeJsonBlob(dir: string, doc: object, mediaType: string): Descriptor {
  const bytes = Buffer.from(JSON.stringify(doc));
  const digest = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
  writeFileSync(blobPath(dir, digest), bytes);
  return { mediaType, digest, size: bytes.length };
}

/** Finish the layout: config, manifest and index.json naming the image `tag`; layers bottom first. */
export function finishLayout(dir: string, layers: readonly LayerBlob[], tag: string): Descriptor {
  const created = new Date(0).toISOString(); // fixed: the same worlds give the same image digest
  const config = writeJsonBlob(dir, imageConfig(layers, created, process.arch), MEDIA.config);
  const manifest = writeJsonBlob(dir, imageManifest(config, layers), MEDIA.manifest);
  const tmp = join(dir, `.index.json.${process.pid}`);
  writeFileSync(tmp, JSON.stringify(imageIndex(manifest, tag), null, 2) + '\n');
  renameSync(tmp, join(dir, 'index.json'));
  return manifest;
}

/** Whether `dir` looks like an OCI image layout. */
export function isLayout(dir: string): boolean {
  return existsSync(join(dir, 'oci-layout')) && existsSync(join(dir, 'index.json'));
}

/** The layers (bottom first) of the image tagged `tag` (or the only one) in the layout at `dir`. */
export function readLayout(dir: string, tag?: string): (LayerRef & { file: string })[] {
  const json = (file: string, what: string): unknown => {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as unknown;
    } catch (e) {
      throw new ImageFormatError(`cannot read the ${what} (${file}): ${(e as Error).message}`);
    }
  };
  const m = pickManifest(json(join(dir, 'index.json'), 'index'), tag);
  const manifest = json(blobPath(dir, m.digest), 'manifest') as { config?: Descriptor };
  if (!manifest?.config) throw new ImageFormatError('the manifest has no config');
  const config = json(blobPath(dir, manifest.config.digest), 'config');
  return layersOf(manifest, config).map((l) => {
    const file = blobPath(dir, l.digest);
    if (!existsSync(file) || !statSync(file).isFile()) throw new ImageFormatError(`layer blob ${l.digest} is missing from ${dir}`);
    return { ...l, file };
  });
}
