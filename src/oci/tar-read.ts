// Reading an OCI layer tar (plain or gzip, told apart by its first bytes) with tar-stream, as
// TarEntry headers and, for extraction, each entry's data in turn. Also yields the sha256 of the
// uncompressed stream (the layer's OCI diff_id).
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { PassThrough, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import tarStream from 'tar-stream';
import { parsePaxTime, xattrsFromRecords } from './pax.js';
import type { TarEntry } from './tar-entry.js';

/** A problem reading the archive itself (not a tar, truncated, an unsupported compression). */
export class TarReadError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TarReadError';
  }
}

function compressionOf(file: string): 'none' | 'gzip' {
  const head = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (n >= 4 && head.readUInt32LE(0) === 0xfd2fb528) throw new TarReadError(`${file} is zstd-compressed, which this Node cannot read; decompress it first (zstd -d)`);
  return 'none';
}

function toEntry(h: tarStream.Header): TarEntry {
  const pax = (h as { pax?: Record<string, string> | null }).pax;
  const { xattrs, lossy } = xattrsFromRecords(pax);
  const paxMtime = pax?.mtime !== undefined ? parsePaxTime(pax.mtime) : undefined;
  return {
    name: h.name, type: h.type ?? 'file', mode: h.mode ?? 0o644, uid: h.uid ?? 0, gid: h.gid ?? 0, size: h.size ?? 0,
    ...(h.linkname != null ? { linkname: h.linkname } : {}),
    devmajor: h.devmajor ?? 0, devminor: h.devminor ?? 0,
    mtimeNs: paxMtime ?? BigInt(h.mtime?.getTime() ?? 0) * 1_000_000n,
    xattrs, ...(lossy.length > 0 ? { lossyXattrs: lossy } : {}),
  };
}

/**
 * Read `file` (a tar or a gzipped tar), calling `onEntry(entry, index, data)` for each entry in
 * order; `onEntry` must consume `data` (or leave it: it is drained). Resolves to the diff_id.
 */
export async function readTar(file: string, onEntry: (e: TarEntry, index: number, data: Readable) => Promise<void> | void): Promise<string> {
  const raw = createReadStream(file);
  const hash = createHash('sha256');
  const plain = new PassThrough();
  plain.on('data', (b: Buffer) => hash.update(b));
  const source = compressionOf(file) === 'gzip' ? raw.pipe(createGunzip()) : raw;
  source.on('error', (e: Error) => plain.destroy(e));
  source.pipe(plain);
  const extract = tarStream.extract();
  plain.pipe(extract);
  plain.on('error', (e) => extract.destroy(e));
  let index = 0;
  try {
    for await (const item of extract) {
      const entry = item as unknown as Readable & { header: tarStream.Header };
      await onEntry(toEntry(entry.header), index++, entry);
      entry.resume();
    }
  } catch (e) {
    raw.destroy();
    if ((e as { code?: string }).code?.startsWith('Z_') || /tar header|Unexpected end|premature/i.test((e as Error).message)) {
      throw new TarReadError(`${file} is not a readable layer tar: ${(e as Error).message}`, { cause: e });
    }
    throw e;
  }
  // The archive's trailing zero blocks (and anything after them) still count toward the digest.
  await new Promise<void>((res) => (plain.readableEnded || plain.destroyed ? res() : plain.on('end', res).on('close', res)));
  return 'sha256:' + hash.digest('hex');
}

/** Every entry header of `file`, and its diff_id. */
export async function readHeaders(file: string): Promise<{ entries: TarEntry[]; diffId: string }> {
  const entries: TarEntry[] = [];
  const diffId = await readTar(file, (e) => { entries.push(e); });
  return { entries, diffId };
}
