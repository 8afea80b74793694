// Export one layer of a stack as an OCI layer tar: what the layer changes in the view of the layers
// below it, with OCI's whiteouts. Walks the view (src/core/resolve.ts) where the top layer takes
// part, so the store's own bookkeeping is resolved away: deletions become `.wh.<name>`, opaque
// directories `.wh..wh..opq`; a renamed (redirected) directory becomes an opaque directory holding
// everything the view shows in it (OCI has no redirects); a metadata-only copy carries the data it
// reads from below (OCI has no metacopy); format xattrs are dropped. Hard links within the export
// are tar links. Entries are sorted, so an unchanged layer gives the same bytes (same digest).
import { closeSync, createReadStream, lstatSync, openSync, readlinkSync, type BigIntStats } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import tarStream from 'tar-stream';
import { dataBranch } from '../core/metacopy.js';
import { mergeListings } from '../core/listing.js';
import { relOf } from '../core/paths.js';
import { lookupChild, lowerPart, rootNode, type ViewNode } from '../core/resolve.js';
import { knownKindOfMode } from '../host/entry.js';
import type { HostLayers } from '../host/layer-probe.js';
import { getXattr, listXattrs } from '../host/xattr.js';
import { paxTime, xattrRecords } from './pax.js';
import { devMajor, devMinor } from './tar-entry.js';
import { isUnionXattr, opaqueEntryName, whiteoutEntryName } from './whiteout-map.js';

/** What was written. */
export interface ExportStats {
  readonly entries: number;
  readonly whiteouts: number;
  readonly dataBytes: number;
}

/** Options: view paths whose contents are never exported (the base's /proc, /sys, /dev, the store). */
export interface ExportOptions {
  readonly emptied?: readonly string[];
}

type Pack = ReturnType<typeof tarStream.pack>;

/**
 * Write layer 0 of `layers` (over layers 1..n) as an OCI layer tar to `out`. A one-layer stack
 * exports the whole tree (a base). Resolves when `out` has everything.
 */
export async function exportLayer(layers: HostLayers, out: Writable, opts: ExportOptions = {}): Promise<ExportStats> {
  const pack = tarStream.pack();
  const done = pipeline(pack, out);
  // If `out` fails (EPIPE, ENOSPC), tar-stream calls no more callbacks: every wait races this.
  const broken = new Promise<never>((_res, rej) => { done.catch(rej); });
  broken.catch(() => undefined);
  const w = new Walker(layers, pack, new Set(opts.emptied ?? []), broken);
  try {
    const root = rootNode(layers);
    await w.object(root, undefined, '');
    await w.dir(root, false);
    pack.finalize();
  } catch (e) {
    pack.destroy(e as Error);
    await done.catch(() => undefined);
    throw e;
  }
  await done;
  return { entries: w.entries, whiteouts: w.whiteouts, dataBytes: w.dataBytes };
}

class Walker {
  entries = 0;
  whiteouts = 0;
  dataBytes = 0;
  /** host dev:ino -> the archive name first written for it (hard links). */
  private readonly linked = new Map<string, string>();
  constructor(private readonly layers: HostLayers, private readonly pack: Pack, private readonly emptied: ReadonlySet<string>,
    private readonly broken: Promise<never>) {}

  private host(node: ViewNode): string {
    const b = node.branches[0]!;
    return this.layers.hostPath(b.layer, b.rel);
  }

  /** The children of directory `node`; `full`: everything the view shows, else what layer 0 changes. */
  async dir(node: ViewNode, full: boolean): Promise<void> {
    const rel = relOf(node.path);
    if (this.emptied.has(node.path)) return;
    const fmt = this.layers.format;
    const list = (n: ViewNode) => mergeListings(n.branches.map((b) => this.layers.list(b.layer, b.rel)), fmt);
    const visible = list(node).sort();
    if (!full) {
      const top = node.branches[0]!;
      if (top.layer !== 0) return;
      const lower = lowerPart(node);
      const opaque = this.layers.isOpaque(0, top.rel) || this.layers.redirectOf(0, top.rel) !== undefined;
      if (opaque) {
        // Nothing of the lower layers' directory shows unless we write it: all of the view, below.
        if (this.layers.layerCount > 1) await this.marker(opaqueEntryName(rel), node);
        full = true;
      } else if (lower.branches.length > 0) {
        const shown = new Set(visible);
        for (const name of list(lower).sort()) {
          if (!shown.has(name)) await this.marker(whiteoutEntryName(rel, name), node);
        }
      }
    }
    for (const name of visible) {
      const r = lookupChild(node, name, this.layers, fmt);
      if (r.kind !== 'found') continue;
      const child = r.node;
      if (!full && child.branches[0]!.layer !== 0) continue;
      await this.object(child, node, relOf(child.path));
      if (child.entry.kind === 'dir') await this.dir(child, full);
    }
  }

  /** A whiteout or opaque marker: an empty file, dated and owned as its directory. */
  private async marker(name: string, dir: ViewNode): Promise<void> {
    const st = lstatSync(this.host(dir), { bigint: true });
    this.whiteouts++;
    await this.entry({ name, type: 'file', mode: 0o644, uid: Number(st.uid), gid: Number(st.gid), size: 0, mtime: new Date(Number(st.mtimeMs)), pax: { mtime: paxTime(st.mtimeNs) } });
  }

  /** One object of the view as a tar entry (its contents: dir()). `parent` undefined: the root. */
  async object(node: ViewNode, parent: ViewNode | undefined, rel: string): Promise<void> {
    const path = this.host(node);
    const st = lstatSync(path, { bigint: true });
    const kind = knownKindOfMode(Number(st.mode));
    const name = rel === '' ? './' : kind === 'dir' ? rel + '/' : rel;
    const header = {
      name, mode: Number(st.mode) & 0o7777, uid: Number(st.uid), gid: Number(st.gid),
      mtime: new Date(Number(st.mtimeMs)), pax: { mtime: paxTime(st.mtimeNs), ...xattrRecords(this.xattrs(path, kind)) },
    };
    if (kind !== 'dir' && st.nlink > 1n) {
      const key = `${st.dev}:${st.ino}`;
      const first = this.linked.get(key);
      if (first !== undefined) return this.entry({ ...header, type: 'link', linkname: first, size: 0 });
      this.linked.set(key, rel);
    }
    switch (kind) {
      case 'dir': return this.entry({ ...header, type: 'directory', size: 0 });
      case 'symlink': return this.entry({ ...header, type: 'symlink', linkname: readlinkSync(path), size: 0 });
      case 'fifo': return this.entry({ ...header, type: 'fifo', size: 0 });
      case 'chardev': case 'blockdev':
        return this.entry({ ...header, type: kind === 'chardev' ? 'character-device' : 'block-device', size: 0, devmajor: devMajor(Number(st.rdev)), devminor: devMinor(Number(st.rdev)) });
      case 'file': return this.file(node, parent!, header, st);
      default: return; // sockets cannot be archived (tar has no type for them), as GNU tar skips them
    }
  }

  private async file(node: ViewNode, parent: ViewNode, header: Record<string, unknown>, st: BigIntStats): Promise<void> {
    const b = dataBranch(node, parent, this.layers, this.layers.format); // metacopy: the data below
    const src = this.layers.hostPath(b.layer, b.rel);
    const size = Number(st.size);
    this.entries++;
    this.dataBytes += size;
    let finish!: (e?: Error | null) => void;
    const written = new Promise<void>((res, rej) => { finish = (e) => (e ? rej(e) : res()); });
    const sink = this.pack.entry({ ...header, type: 'file', size } as tarStream.Header, (e?: Error | null) => finish(e));
    sink.on('error', (e: Error) => finish(e));
    if (size > 0) {
      // The descriptor bounds the read to `size` bytes: a file growing meanwhile cannot break the archive.
      const fd = openSync(src, 'r');
      try {
        for await (const chunk of createReadStream('', { fd, start: 0, end: size - 1, autoClose: false })) {
          if (!sink.write(chunk as Buffer)) await Promise.race([new Promise<void>((res) => sink.once('drain', () => res())), written, this.broken]);
        }
      } finally {
        closeSync(fd);
      }
    }
    (sink as unknown as Writable).end();
    await Promise.race([written, this.broken]);
  }

  private xattrs(path: string, kind: string): Map<string, Buffer> {
    const out = new Map<string, Buffer>();
    let names: string[];
    try {
      names = listXattrs(path);
    } catch {
      return out; // a filesystem without xattrs, or a symlink on one that refuses listing
    }
    for (const n of names) {
      if (isUnionXattr(n) || this.layers.format.isInternalXattr(n)) continue;
      if (kind === 'symlink' && n.startsWith('user.')) continue;
      const v = getXattr(path, n);
      if (v !== undefined) out.set(n, v);
    }
    return out;
  }

  private entry(header: Record<string, unknown>): Promise<void> {
    this.entries++;
    // An empty body: for a 'file' without one, tar-stream would wait for data on a stream.
    return Promise.race([this.broken, new Promise<void>((res, rej) => this.pack.entry(header as unknown as tarStream.Header, Buffer.alloc(0), (e?: Error | null) => (e ? rej(e) : res())))]);
  }
}

