// Test helper: an in-memory LayerProbe (the pure twin of src/host/layer-probe.ts). Each layer is a
// tree built from a compact spec; whiteouts, opaque flags and redirects are written with the format's
// own LayerOps, so one spec describes the same stack in every WhiteoutFormat.
import { fsError } from '../../src/core/errors.js';
import type { ListedEntry } from '../../src/core/listing.js';
import { NAME_MAX } from '../../src/core/paths.js';
import type { TimedLowerCache } from '../../src/core/lower-cache.js';
import type { LayerProbe } from '../../src/core/resolve.js';
import type { EntryKind, LayerOp, MarkerSpec, RawEntry, WhiteoutFormat } from '../../src/core/whiteout/format.js';

/**
 * One entry of a layer, as space-separated words: a kind, then modifiers.
 *   kinds:     file | dir | fifo | socket | symlink=TARGET | chardev=MAJ/MIN | blockdev=MAJ/MIN
 *              | whiteout   (the name is deleted in this layer, written the format's way)
 *   modifiers: opaque | redirect=TARGET   (directories only)
 *              | +whiteout  (the entry AND a whiteout of its name in the same layer; formats that
 *                            store whiteouts in place of the entry cannot express it: NotExpressible)
 * Examples: 'file', 'dir opaque', 'dir redirect=/old/path', 'symlink=../x', 'chardev=0/0'.
 */
export type EntrySpec = string;

/**
 * A layer: layer-relative paths (no leading slash) to entries. Missing parents are plain
 * directories. The key '' is the layer's root, for root modifiers ('dir opaque').
 * Keys are taken literally: `{ '.wh.x': 'file' }` is a file named `.wh.x` in every format.
 */
export type LayerSpec = Readonly<Record<string, EntrySpec>>;

/** Thrown when a spec asks for a state the format cannot represent; tests skip that format. */
export class NotExpressible extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotExpressible';
  }
}

export interface MemNode {
  readonly kind: EntryKind;
  readonly rdev: number;
  readonly target?: string;
  readonly xattrs: Map<string, string>;
  /** Insertion order is listing order, as an unsorted readdir would give. */
  readonly children?: Map<string, MemNode>;
}

/** Linux makedev for the small numbers tests use (glibc's encoding). */
export function makedev(major: number, minor: number): number {
  return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xff) << 12);
}

function dirNode(): MemNode {
  return { kind: 'dir', rdev: 0, xattrs: new Map(), children: new Map() };
}

function splitRel(rel: string): string[] {
  if (rel === '') return [];
  if (rel.startsWith('/') || rel.endsWith('/') || rel.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new Error(`malformed layer-relative path ${JSON.stringify(rel)}`);
  }
  const parts = rel.split('/');
  // As on disk: a name of more than NAME_MAX bytes can be neither made nor looked up.
  for (const p of parts) if (p.length > NAME_MAX / 4 && Buffer.byteLength(p) > NAME_MAX) throw fsError('ENAMETOOLONG', p);
  return parts;
}

function parentAndName(rel: string): [string, string] {
  const i = rel.lastIndexOf('/');
  return i < 0 ? ['', rel] : [rel.slice(0, i), rel.slice(i + 1)];
}

/** One layer directory held in memory. Mutated only through `apply` (the LayerWriter's ops). */
export class MemoryLayer {
  private readonly root = dirNode();

  /** lstat: the node at `rel`, or undefined when it or a parent is missing or not a directory. */
  node(rel: string): MemNode | undefined {
    let n: MemNode = this.root;
    for (const part of splitRel(rel)) {
      const next = n.children?.get(part);
      if (!next) return undefined;
      n = next;
    }
    return n;
  }

  /** Perform one LayerOp the way src/host/layer-writer.ts does on disk. */
  apply(op: LayerOp): void {
    switch (op.op) {
      case 'mknod-whiteout': return this.create(op.rel, { kind: 'chardev', rdev: 0, xattrs: new Map() });
      case 'create-marker': return this.create(op.rel, { kind: 'file', rdev: 0, xattrs: new Map() });
      case 'symlink': return this.create(op.rel, { kind: 'symlink', rdev: 0, target: op.target, xattrs: new Map() });
      case 'set-xattr': {
        const n = this.node(op.rel);
        if (!n) throw new Error(`set-xattr on missing ${JSON.stringify(op.rel)}`);
        n.xattrs.set(op.name, op.value);
        return;
      }
      case 'remove-xattr': {
        const n = this.node(op.rel);
        if (!n) throw new Error(`remove-xattr on missing ${JSON.stringify(op.rel)}`);
        n.xattrs.delete(op.name);
        return;
      }
      case 'remove': {
        const [dir, name] = parentAndName(op.rel);
        const n = this.node(op.rel);
        if (n?.kind === 'dir') throw new Error(`remove (unlink) of directory ${JSON.stringify(op.rel)}`);
        this.node(dir)?.children?.delete(name);
        return;
      }
      default: {
        // A LayerOp kind this helper does not know yet: fail loudly (and at compile time).
        const unknown: never = op;
        throw new Error(`unknown layer op ${JSON.stringify(unknown)}`);
      }
    }
  }

  /** Create an entry; missing parents become plain directories. Refuses to replace anything. */
  create(rel: string, node: MemNode): void {
    const parts = splitRel(rel);
    if (parts.length === 0) throw new Error('cannot create the layer root');
    let n: MemNode = this.root;
    for (const part of parts.slice(0, -1)) {
      if (!n.children) throw new Error(`a parent of ${JSON.stringify(rel)} is not a directory`);
      let next = n.children.get(part);
      if (!next) n.children.set(part, (next = dirNode()));
      n = next;
    }
    const name = parts[parts.length - 1]!;
    if (!n.children) throw new Error(`the parent of ${JSON.stringify(rel)} is not a directory`);
    const existing = n.children.get(name);
    if (existing) {
      throw new NotExpressible(`${JSON.stringify(rel)} already holds a ${existing.kind}; this format keeps its marker there`);
    }
    n.children.set(name, node);
  }

  /** Detach the entry at `rel` with everything below it (rename away); undefined when absent. */
  take(rel: string): MemNode | undefined {
    const [dir, name] = parentAndName(rel);
    const parent = this.node(dir);
    const n = parent?.children?.get(name);
    if (n) parent!.children!.delete(name);
    return n;
  }

  /** Attach `node` at `rel` (rename into place: replaces what is there); the parent must exist. */
  put(rel: string, node: MemNode): void {
    const [dir, name] = parentAndName(rel);
    const parent = this.node(dir);
    if (!parent?.children) throw new Error(`put ${JSON.stringify(rel)}: no parent directory (ENOENT)`);
    parent.children.set(name, node);
  }

  /** readdir with d_type and, for devices, rdev: what HostLayers.list returns. */
  list(rel: string): ListedEntry[] {
    const n = this.node(rel);
    if (!n?.children) return [];
    return [...n.children].map(([name, c]) => ({ name, kind: c.kind, rdev: c.rdev }));
  }

  /** Every path in the layer, parents first, with a short description (for assertions on ops). */
  dump(): Record<string, string> {
    const out: Record<string, string> = {};
    const walk = (n: MemNode, rel: string) => {
      for (const [name, c] of n.children ?? []) {
        const p = rel === '' ? name : rel + '/' + name;
        out[p] = describe(c);
        walk(c, p);
      }
    };
    if (this.root.xattrs.size > 0) out[''] = describe(this.root);
    walk(this.root, '');
    return out;
  }
}

function describe(n: MemNode): string {
  let s: string = n.kind;
  if (n.kind === 'symlink') s += '=' + n.target;
  if (n.kind === 'chardev' || n.kind === 'blockdev') s += '=' + n.rdev;
  for (const [k, v] of n.xattrs) s += ` ${k}=${v}`;
  return s;
}

function parseDev(s: string): number {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  if (!m) throw new Error(`bad device number ${JSON.stringify(s)} (want MAJ/MIN)`);
  return makedev(Number(m[1]), Number(m[2]));
}

function nodeFor(kind: string): MemNode | 'whiteout' {
  const [k, arg] = kind.includes('=') ? [kind.slice(0, kind.indexOf('=')), kind.slice(kind.indexOf('=') + 1)] : [kind, undefined];
  const plain = (kind: EntryKind, rdev = 0, target?: string): MemNode => ({ kind, rdev, xattrs: new Map(), ...(target !== undefined ? { target } : {}) });
  switch (k) {
    case 'whiteout': return 'whiteout';
    case 'dir': return dirNode();
    case 'file': case 'fifo': case 'socket': return plain(k);
    case 'symlink': return plain('symlink', 0, arg ?? '');
    case 'chardev': case 'blockdev': return plain(k, parseDev(arg ?? ''));
    default: throw new Error(`unknown entry kind ${JSON.stringify(kind)}`);
  }
}

/** A layer built from `spec`, with whiteouts, opaque flags and redirects written by `format`. */
export function buildLayer(spec: LayerSpec, format: WhiteoutFormat): MemoryLayer {
  const layer = new MemoryLayer();
  const depth = (p: string) => (p === '' ? 0 : p.split('/').length);
  const paths = Object.keys(spec).sort((a, b) => depth(a) - depth(b));
  const late: LayerOp[][] = [];
  for (const rel of paths) {
    const [kind, ...mods] = spec[rel]!.trim().split(/\s+/);
    const [dir, name] = parentAndName(rel);
    const node = nodeFor(kind!);
    if (node === 'whiteout') {
      if (mods.length > 0) throw new Error(`whiteout takes no modifiers: ${rel}`);
      if (rel !== '' && !layer.node(dir)) layer.create(dir, dirNode());
      for (const op of format.whiteout(dir, name)) layer.apply(op);
      continue;
    }
    if (rel === '') {
      if (node.kind !== 'dir') throw new Error('the layer root is a directory');
    } else {
      layer.create(rel, node);
    }
    for (const mod of mods) {
      if (mod === 'opaque' && node.kind === 'dir') late.push(format.makeOpaque(rel));
      else if (mod.startsWith('redirect=') && node.kind === 'dir') late.push(format.setRedirect(rel, mod.slice('redirect='.length)));
      else if (mod === '+whiteout' && rel !== '') late.push(format.whiteout(dir, name));
      else throw new Error(`modifier ${JSON.stringify(mod)} does not apply to ${JSON.stringify(spec[rel])} at ${JSON.stringify(rel)}`);
    }
  }
  // Markers go in after every entry, so a marker never stands where a spec'd child will go.
  for (const ops of late) for (const op of ops) layer.apply(op);
  return layer;
}

/** A stack of in-memory layers read the way HostLayers reads real directories. Layer 0 is the top. */
export class MemoryLayers implements LayerProbe {
  readonly layerCount: number;
  constructor(readonly layers: readonly MemoryLayer[], readonly format: WhiteoutFormat) {
    if (layers.length === 0) throw new Error('a stack needs at least one layer');
    this.layerCount = layers.length;
  }

  entry(layer: number, rel: string): RawEntry | undefined {
    const n = this.layer(layer).node(rel);
    return n && { kind: n.kind, rdev: n.rdev };
  }

  isOpaque(layer: number, rel: string): boolean {
    return this.marker(layer, rel, this.format.opaque) !== undefined;
  }

  redirectOf(layer: number, rel: string): string | undefined {
    return this.marker(layer, rel, this.format.redirect);
  }

  /** The raw listing of directory `rel` in `layer` ([] when it is missing or not a directory). */
  list(layer: number, rel: string): ListedEntry[] {
    return this.layer(layer).list(rel);
  }

  /** Apply ops to one layer (what LayerWriter.apply does to the top layer). */
  apply(layer: number, ops: readonly LayerOp[]): void {
    for (const op of ops) this.layer(layer).apply(op);
  }

  /** The layer at `index`; out-of-range indexes are resolver bugs and throw. */
  layer(index: number): MemoryLayer {
    if (!Number.isInteger(index) || index < 0 || index >= this.layers.length) {
      throw new Error(`layer ${index} out of range 0..${this.layers.length - 1}`);
    }
    return this.layers[index]!;
  }

  private marker(layer: number, rel: string, spec: MarkerSpec): string | undefined {
    const dir = this.layer(layer).node(rel);
    if (dir?.kind !== 'dir') return undefined;
    switch (spec.kind) {
      case 'file': return dir.children!.has(spec.name) ? 'y' : undefined;
      case 'symlink': {
        const m = dir.children!.get(spec.name);
        return m?.kind === 'symlink' ? m.target : undefined;
      }
      case 'xattr': return dir.xattrs.get(spec.name);
    }
  }
}

/** Build a stack (top layer first). Throws NotExpressible when `format` cannot represent a spec. */
export function buildStack(format: WhiteoutFormat, specs: readonly LayerSpec[]): MemoryLayers {
  return new MemoryLayers(specs.map((s) => buildLayer(s, format)), format);
}

/** `probe` with `cache`'s lower-layer memo (src/core/lower-cache.ts), as HostLayers offers it. */
export function withLowerMemo(probe: MemoryLayers, cache: TimedLowerCache): LayerProbe {
  return {
    layerCount: probe.layerCount,
    entry: (l, r) => probe.entry(l, r),
    isOpaque: (l, r) => probe.isOpaque(l, r),
    redirectOf: (l, r) => probe.redirectOf(l, r),
    memo: () => cache.memo(),
  };
}
