// The JSON documents of an OCI image layout (image-spec v1.0: oci-layout, index.json, manifest,
// config) built from and read back into plain data. Pure: digests are computed by the caller.

export const MEDIA = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/** Where worldos records, in a config's history, which world a layer was. */
export const WORLD_PREFIX = 'worldos world ';

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly annotations?: Readonly<Record<string, string>>;
}

/** One exported layer: its (uncompressed) blob and the world it was. */
export interface LayerBlob {
  readonly digest: string;
  readonly size: number;
  readonly world: string;
}

/** The image config: diff_ids bottom first, one history entry per layer naming its world. */
export function imageConfig(layers: readonly LayerBlob[], created: string, arch: string): object {
  return {
    created,
    architecture: goArch(arch),
    os: 'linux',
    config: {},
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
    history: layers.map((l) => ({ created, created_by: WORLD_PREFIX + JSON.stringify(l.world) })),
  };
}

function goArch(arch: string): string {
  return arch === 'x64' ? 'amd64' : arch === 'ia32' ? '386' : arch;
}

/** The manifest of an image with `config` and `layers` (bottom first). */
export function imageManifest(config: Descriptor, layers: readonly LayerBlob[]): object {
  return {
    schemaVersion: 2,
    mediaType: MEDIA.manifest,
    config,
    layers: layers.map((l) => ({ mediaType: MEDIA.layer, digest: l.digest, size: l.size })),
  };
}

/** index.json naming one manifest by `tag`. */
export function imageIndex(manifest: Descriptor, tag: string): object {
  return {
    schemaVersion: 2,
    mediaType: MEDIA.index,
    manifests: [{ ...manifest, annotations: { 'org.opencontainers.image.ref.name': tag } }],
  };
}

/** A layer to read back: its blob, how it is compressed, the uncompressed digest it must have. */
export interface LayerRef {
  readonly digest: string;
  readonly compression: 'none' | 'gzip';
  readonly diffId: string;
  /** The world it was, when worldos exported it. */
  readonly world?: string;
}

/** A problem with an image's JSON: what was expected and what was found. */
export class ImageFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageFormatError';
  }
}

/** The manifest descriptor to use from index.json: the one tagged `tag`, else the only one. */
export function pickManifest(index: unknown, tag?: string): Descriptor {
  const ms = (index as { manifests?: Descriptor[] })?.manifests;
  if (!Array.isArray(ms) || ms.length === 0) throw new ImageFormatError('index.json lists no manifest');
  const tagged = tag === undefined ? undefined : ms.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (tagged) return checkDescriptor(tagged, 'manifest');
  if (ms.length === 1) return checkDescriptor(ms[0]!, 'manifest');
  throw new ImageFormatError(`index.json lists ${ms.length} manifests and none is tagged ${JSON.stringify(tag ?? '')}`);
}

function checkDescriptor(d: Descriptor, what: string): Descriptor {
  if (typeof d?.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(d.digest)) {
    throw new ImageFormatError(`the ${what} descriptor has no sha256 digest (found ${JSON.stringify(d?.digest)})`);
  }
  return d;
}

/** The layers of an image, bottom first, from its manifest and config. */
export function layersOf(manifest: unknown, config: unknown): LayerRef[] {
  const m = manifest as { mediaType?: string; layers?: Descriptor[] };
  if (m?.mediaType !== undefined && m.mediaType !== MEDIA.manifest && m.mediaType !== MEDIA.dockerManifest) {
    throw new ImageFormatError(`expected an image manifest, found ${JSON.stringify(m.mediaType)} (a multi-platform index is not supported)`);
  }
  const layers = m?.layers;
  if (!Array.isArray(layers)) throw new ImageFormatError('the manifest has no layers array');
  const c = config as { rootfs?: { diff_ids?: string[] }; history?: { created_by?: string; empty_layer?: boolean }[] };
  const diffIds = c?.rootfs?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== layers.length) {
    throw new ImageFormatError(`the config lists ${diffIds?.length ?? 'no'} diff_ids for ${layers.length} layers`);
  }
  const worlds = (c.history ?? []).filter((h) => !h.empty_layer).map((h) => worldOf(h.created_by));
  return layers.map((d, i) => {
    checkDescriptor(d, 'layer');
    const compression = d.mediaType === MEDIA.layer ? 'none'
      : d.mediaType === MEDIA.layerGzip || d.mediaType === MEDIA.dockerLayerGzip ? 'gzip'
        : undefined;
    if (!compression) throw new ImageFormatError(`layer ${i + 1} is ${JSON.stringify(d.mediaType)}; only tar and tar+gzip layers can be imported`);
    const world = worlds.length === layers.length ? worlds[i] : undefined;
    return { digest: d.digest, compression, diffId: diffIds[i]!, ...(world !== undefined ? { world } : {}) };
  });
}

function worldOf(createdBy: string | undefined): string | undefined {
  if (!createdBy?.startsWith(WORLD_PREFIX)) return undefined;
  try {
    const v = JSON.parse(createdBy.slice(WORLD_PREFIX.length)) as unknown;
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}
