// What importing one OCI layer tar will do, decided from its headers alone before anything is
// written: every path checked, OCI whiteouts mapped to the store's format, links resolved, and
// the space it needs. A layer with any problem is refused whole. Pure: no I/O.
import type { LayerOp, WhiteoutFormat } from '../core/whiteout/format.js';
import { entryRel, relAncestors, relBase, relParent, symlinkEscapes } from './entry-path.js';
import type { TarEntry } from './tar-entry.js';
import { classifyOciName, isUnionXattr } from './whiteout-map.js';

/** Metadata applied to an object once it exists (directories: after their contents). */
export interface Meta {
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtimeNs: bigint;
  readonly xattrs: ReadonlyMap<string, Buffer>;
}

/** What to do for one archive entry (by its index in the archive). */
export type ImportStep =
  | { readonly op: 'dir'; readonly rel: string; readonly meta: Meta }
  | { readonly op: 'file'; readonly rel: string; readonly meta: Meta; readonly size: number }
  | { readonly op: 'symlink'; readonly rel: string; readonly target: string; readonly meta: Meta }
  | { readonly op: 'hardlink'; readonly rel: string; readonly target: string }
  | { readonly op: 'node'; readonly rel: string; readonly kind: 'fifo' | 'chardev' | 'blockdev'; readonly major: number; readonly minor: number; readonly meta: Meta }
  | { readonly op: 'layer-ops'; readonly dir: string; readonly ops: readonly LayerOp[] };

export interface ImportPlan {
  /** steps[i] is what entry i does (undefined: nothing, e.g. a root entry without metadata). */
  readonly steps: readonly (ImportStep | undefined)[];
  /** Directories the archive implies (a parent of an entry) without an entry of their own. */
  readonly implicitDirs: readonly string[];
  /** Bytes of file data the layer holds. */
  readonly dataBytes: number;
  readonly entryCount: number;
}

/** What the importer may do: devices need root. */
export interface ImportCapabilities {
  readonly canMknod: boolean;
}

/** A refused layer: every problem found, each naming the entry. */
export class LayerProblems extends Error {
  constructor(readonly problems: readonly string[]) {
    super(problems.slice(0, 10).join('; ') + (problems.length > 10 ? `; and ${problems.length - 10} more` : ''));
    this.name = 'LayerProblems';
  }
}

const TYPES = new Set(['file', 'contiguous-file', 'directory', 'symlink', 'link', 'fifo', 'character-device', 'block-device']);

/**
 * Plan the import of a layer whose headers are `entries` (in archive order) into a layer of
 * `format`. Throws LayerProblems listing every refused entry: absolute or `..` paths, entries below
 * a symlink or a file of the archive, relative symlinks leaving the root, hard links to anything but
 * an earlier file of the archive, devices without `canMknod` (or ones the format reads as
 * whiteouts), union bookkeeping xattrs, an entry and a whiteout of one name, a name twice, unknown
 * entry types, and xattr values that could not be read exactly.
 */
export function planImport(entries: readonly TarEntry[], format: WhiteoutFormat, caps: ImportCapabilities): ImportPlan {
  const problems: string[] = [];
  const steps: (ImportStep | undefined)[] = [];
  const kinds = new Map<string, 'dir' | 'leaf' | 'symlink' | 'whiteout'>();
  const wantedDirs = new Set<string>();
  let dataBytes = 0;
  const bad = (e: TarEntry, why: string) => { problems.push(`${JSON.stringify(e.name)} ${why}`); };

  for (const e of entries) {
    const r = entryRel(e.name);
    if ('problem' in r) { bad(e, r.problem); steps.push(undefined); continue; }
    const rel = r.rel;
    const type = e.type === 'contiguous-file' ? 'file' : e.type;
    if (!TYPES.has(e.type)) { bad(e, `is of type ${JSON.stringify(e.type)}, which a layer cannot hold`); steps.push(undefined); continue; }
    const blocked = relAncestors(rel).find((a) => kinds.get(a) !== undefined && kinds.get(a) !== 'dir');
    if (blocked !== undefined) {
      bad(e, `lies below ${JSON.stringify(blocked)}, which the archive made a ${kinds.get(blocked) === 'symlink' ? 'symlink (extracting through it could write outside the layer)' : 'non-directory'}`);
      steps.push(undefined); continue;
    }
    for (const x of e.lossyXattrs ?? []) bad(e, `has xattr ${x} with a binary value that was not stored exactly`);
    const internal = [...e.xattrs.keys()].filter(isUnionXattr);
    if (internal.length > 0) bad(e, `carries union-filesystem bookkeeping xattrs (${internal.join(', ')}), which would make the layer misread`);
    const meta: Meta = { mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, mtimeNs: e.mtimeNs, xattrs: e.xattrs };

    if (rel === '') {
      if (type !== 'directory') { bad(e, 'names the layer root but is not a directory'); steps.push(undefined); continue; }
      steps.push({ op: 'dir', rel, meta });
      continue;
    }
    const dir = relParent(rel);
    for (const a of [...relAncestors(rel)]) wantedDirs.add(a);
    const name = classifyOciName(relBase(rel));
    if (name.kind === 'reserved') { bad(e, 'uses a reserved whiteout name (.wh..wh. is only valid as .wh..wh..opq)'); steps.push(undefined); continue; }
    if (name.kind === 'opaque' || name.kind === 'whiteout') {
      if (type !== 'file') { bad(e, 'is a whiteout marker but not a regular file'); steps.push(undefined); continue; }
      if (name.kind === 'opaque') {
        steps.push({ op: 'layer-ops', dir, ops: format.makeOpaque(dir) });
        continue;
      }
      const hidden = dir === '' ? name.hides : dir + '/' + name.hides;
      if (kinds.has(hidden)) { bad(e, `whites out ${JSON.stringify(hidden)}, which the same layer also holds`); steps.push(undefined); continue; }
      kinds.set(hidden, 'whiteout');
      steps.push({ op: 'layer-ops', dir, ops: format.whiteout(dir, name.hides) });
      continue;
    }
    if (format.isReservedName(relBase(rel))) { bad(e, `is a name the ${format.id} whiteout format reserves`); steps.push(undefined); continue; }
    const seen = kinds.get(rel);
    if (seen === 'whiteout') { bad(e, 'is also whited out in the same layer'); steps.push(undefined); continue; }
    if (seen !== undefined && !(seen === 'dir' && type === 'directory')) { bad(e, 'appears twice in the layer'); steps.push(undefined); continue; }

    switch (type) {
      case 'directory':
        kinds.set(rel, 'dir');
        steps.push({ op: 'dir', rel, meta });
        break;
      case 'file':
        kinds.set(rel, 'leaf');
        dataBytes += e.size;
        steps.push({ op: 'file', rel, meta, size: e.size });
        break;
      case 'symlink': {
        const target = e.linkname ?? '';
        if (target === '' || target.includes('\0')) { bad(e, 'is a symlink with an empty or invalid target'); steps.push(undefined); break; }
        if (symlinkEscapes(rel, target)) { bad(e, `is a symlink to ${JSON.stringify(target)}, outside the layer's root`); steps.push(undefined); break; }
        kinds.set(rel, 'symlink');
        steps.push({ op: 'symlink', rel, target, meta });
        break;
      }
      case 'link': {
        const t = entryRel(e.linkname ?? '');
        if ('problem' in t) { bad(e, `is a hard link whose target ${t.problem}`); steps.push(undefined); break; }
        if (kinds.get(t.rel) !== 'leaf') { bad(e, `is a hard link to ${JSON.stringify(e.linkname)}, which is not an earlier file, fifo or device of this layer`); steps.push(undefined); break; }
        kinds.set(rel, 'leaf');
        steps.push({ op: 'hardlink', rel, target: t.rel });
        break;
      }
      default: {
        const kind = type === 'fifo' ? 'fifo' : type === 'character-device' ? 'chardev' : 'blockdev';
        if (kind !== 'fifo' && !caps.canMknod) { bad(e, 'is a device file, which only root may create (import as root)'); steps.push(undefined); break; }
        if (format.isReservedDevice(kind, 0) && e.devmajor === 0 && e.devminor === 0) { bad(e, `is a device 0/0, which the ${format.id} format reads as a whiteout`); steps.push(undefined); break; }
        kinds.set(rel, 'leaf');
        steps.push({ op: 'node', rel, kind, major: e.devmajor, minor: e.devminor, meta });
      }
    }
  }
  for (const d of wantedDirs) {
    const k = kinds.get(d);
    if (k !== undefined && k !== 'dir' && k !== 'whiteout') problems.push(`${JSON.stringify(d)} is a parent of other entries but is not a directory`);
  }
  if (problems.length > 0) throw new LayerProblems(problems);
  const implicitDirs = [...wantedDirs].filter((d) => kinds.get(d) !== 'dir').sort();
  return { steps, implicitDirs, dataBytes, entryCount: entries.length };
}
