// The union's shared machinery: resolution against the layer stack, copy-up into the top layer,
// and the two primitives every namespace operation is built from — placing a new entry (over a
// whiteout if there is one) and removing one (leaving a whiteout if a lower layer still has it).
import { fchownSync, type Stats } from 'node:fs';
import { fsError, isFsError } from '../core/errors.js';
import { dataBranch } from '../core/metacopy.js';
import { ACL_ACCESS, ACL_DEFAULT, inherit } from '../core/posix-acl.js';
import { baseName, NAME_MAX, parentOf, relOf, type ViewPath } from '../core/paths.js';
import { isUpper, lookupChild, lowerHas, resolve, type ChildLookup, type ViewNode } from '../core/resolve.js';
import type { LayerOp, WhiteoutFormat } from '../core/whiteout/format.js';
import { copyObject, restoreTimes } from './copy-up.js';
import { carryOrigin, recordOrigin } from './inode-origin.js';
import { CopyStager } from './copy-stager.js';
import { chmodSync, lchownSync, lstatSync, renameat2, renameSync, rmSync, RENAME_EXCHANGE, RENAME_WHITEOUT } from './host-fs.js';
import { host } from './errors.js';
import type { HostLayers } from './layer-probe.js';
import type { LayerWriter } from './layer-writer.js';
import type { SeenLog } from './seen-log.js';
import { getXattr, setXattr } from './xattr.js';

export interface UnionOptions {
  /** fsync copied-up data before it becomes visible. */
  readonly fsync: boolean;
  /** Metadata-only changes (chmod, chown, utimens, xattrs) copy up metadata only (overlayfs metacopy=on). */
  readonly metacopy?: boolean;
  /** Whether the daemon may give files away (chown): root, or root of a user namespace. */
  readonly canChown: boolean;
}

/**
 * What creating `path` inside `parent` would have given it: what `parent`'s default ACL gives (a
 * path only), and the group and setgid of a setgid parent. `path` may be a descriptor of a file
 * (one made with O_TMPFILE, which has no path).
 */
export function inheritFromParent(path: string | number, parent: string, isDir: boolean): void {
  if (typeof path === 'string') inheritDefaultAcl(path, parent, isDir);
  const dir = lstatSync(parent);
  if (!(dir.mode & 0o2000)) return;
  try {
    if (typeof path === 'number') fchownSync(path, -1, dir.gid);
    else lchownSync(path, -1, dir.gid);
  } catch { /* not ours to give away (unprivileged): keep our group */ }
  if (isDir && typeof path === 'string') chmodSync(path, (lstatSync(path).mode & 0o7777) | 0o2000);
}

/** Directory `dir`'s default ACL (host path), or undefined: none, or a filesystem without ACLs. */
export function defaultAclOf(dir: string): Buffer | undefined {
  try {
    return getXattr(dir, ACL_DEFAULT);
  } catch {
    return undefined;
  }
}

/**
 * What a new object built outside its directory (in the work directory, made with its caller's
 * mode unmasked) would have inherited from `parent`'s default ACL, given to it: the mode it
 * narrows, an access ACL when the bits cannot say it all, and for a directory the default ACL itself.
 */
function inheritDefaultAcl(path: string, parent: string, isDir: boolean): void {
  const acl = defaultAclOf(parent);
  if (!acl) return;
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  const got = inherit(acl, st.mode);
  if (!got) return;
  chmodSync(path, got.mode & 0o7777);
  if (got.access) setXattr(path, ACL_ACCESS, got.access);
  if (isDir) setXattr(path, ACL_DEFAULT, acl);
}

/** A mounted view's state: the layer stack, its whiteout format and the top-layer writer. */
export class Union {
  readonly format: WhiteoutFormat;
  /** Copies of big files' data made ahead of their copy-up, while other requests are served. */
  readonly stager: CopyStager;
  constructor(
    readonly layers: HostLayers,
    readonly writer: LayerWriter,
    readonly options: UnionOptions,
    private readonly seen?: SeenLog,
  ) {
    this.format = layers.format;
    this.stager = new CopyStager(() => writer.tempPath(), options.fsync);
  }

  /** Release what the union holds open (its seen log): it is no longer served (a reload swapped it out). */
  close(): void {
    this.seen?.close();
  }

  /** Note, once per path, what the view showed before the first change to `path` (merge conflicts). */
  noteChange(path: ViewPath, before: ViewNode | undefined): void {
    this.seen?.record(path, before ? this.hostPath(before) : undefined);
  }

  resolve(path: ViewPath): ChildLookup {
    return resolve(path, this.layers, this.format);
  }

  /** The object at `path`; ENOENT when there is none. */
  existing(path: ViewPath): ViewNode {
    const r = this.resolve(path);
    if (r.kind === 'absent') throw fsError('ENOENT', path);
    return r.node;
  }

  /** The directory that contains `path` (ENOENT / ENOTDIR when there is none). */
  parentDir(path: ViewPath): ViewNode {
    const parent = this.existing(parentOf(path));
    if (parent.entry.kind !== 'dir') throw fsError('ENOTDIR', parent.path);
    return parent;
  }

  lookupIn(dir: ViewNode, name: string): ChildLookup {
    return lookupChild(dir, name, this.layers, this.format);
  }

  /** Host path of the highest layer's copy of the object. */
  hostPath(node: ViewNode): string {
    const b = node.branches[0]!;
    return this.layers.hostPath(b.layer, b.rel);
  }

  /** lstat of the highest layer's copy. */
  stat(node: ViewNode): Stats {
    return host(() => lstatSync(this.hostPath(node)));
  }

  /** The top-layer host path of a view path (whether or not anything is there). */
  upperPath(path: ViewPath): string {
    return this.writer.upper(relOf(path));
  }

  /**
   * Make sure the object exists in the top layer, copying up its parents and then itself.
   * Returns the top-layer host path. `dataLimit` bounds the file data copied (truncate, O_TRUNC).
   * With `metaOnly` (chmod, chown, utimens, xattrs) a regular file's data is not copied: the top
   * copy is marked metacopy; without it, a metacopy top copy gets its data (materialised).
   */
  copyUp(node: ViewNode, dataLimit?: number, metaOnly = false): string {
    const upper = this.upperPath(node.path);
    if (isUpper(node)) {
      if (!metaOnly && node.entry.kind === 'file' && this.layers.isMetacopy(0, relOf(node.path))) this.materialize(node, dataLimit);
      return upper;
    }
    const parent = this.parentDir(node.path);
    this.copyUp(parent);
    this.noteChange(node.path, node);
    const st = this.stat(node);
    const isFile = node.entry.kind === 'file';
    const base = { dataLimit, fsync: this.options.fsync, canChown: this.options.canChown, format: this.format };
    if (metaOnly && isFile && this.options.metacopy && st.size > 0) {
      const tmp = this.writer.tempPath();
      try {
        copyObject(this.hostPath(node), st, tmp, { ...base, metaOnly: true });
        recordOrigin(this, node, tmp); // inode numbers: the copy keeps reporting node's (inode-origin.ts)
        this.placeCopy(tmp, upper);
        return upper;
      } catch (e) {
        rmSync(tmp, { force: true });
        if (!isFsError(e, 'EOPNOTSUPP', 'EPERM')) throw e; // no xattrs on the top layer: copy the data
      }
    }
    const tmp = this.writer.tempPath();
    const dataFrom = isFile ? this.dataPath(node, parent) : undefined;
    const prefilled = dataFrom !== undefined ? this.stager.take(dataFrom, Math.min(st.size, dataLimit ?? Infinity)) : undefined;
    copyObject(this.hostPath(node), st, tmp, { ...base, dataFrom, prefilled });
    recordOrigin(this, node, tmp); // inode numbers: the copy keeps reporting node's (inode-origin.ts)
    this.placeCopy(tmp, upper);
    return upper;
  }

  /**
   * The file data a copy-up of `node` would copy, with the same arguments as copyUp: the host path
   * it comes from and how many bytes. Undefined when it copies none (not a regular file, already
   * in the top layer with its data, or a metadata-only copy-up).
   */
  dataToCopy(node: ViewNode, dataLimit?: number, metaOnly = false): { src: string; bytes: number } | undefined {
    if (node.entry.kind !== 'file') return undefined;
    const rel = relOf(node.path);
    if (isUpper(node)) {
      if (metaOnly || !this.layers.isMetacopy(0, rel)) return undefined;
      const size = this.stat(node).size;
      const lower = { ...node, branches: [{ layer: 0, rel }] };
      return { src: this.dataPath(lower), bytes: Math.min(size, dataLimit ?? Infinity) };
    }
    const size = this.stat(node).size;
    if (metaOnly && this.options.metacopy && size > 0) return undefined;
    return { src: this.dataPath(node), bytes: Math.min(size, dataLimit ?? Infinity) };
  }

  /**
   * Rename a finished copy into the top layer without touching the parent's times: a copy-up is
   * not a change of the directory (overlayfs restores them too).
   */
  private placeCopy(tmp: string, upper: string): void {
    const dir = upper.slice(0, upper.lastIndexOf('/')) || '/';
    const before = lstatSync(dir, { bigint: true });
    this.writer.renameInto(tmp, upper);
    restoreTimes(dir, before);
  }

  /** Host path of the data of a regular file (below, for a metacopy file). */
  dataPath(node: ViewNode, parent = this.parentDir(node.path)): string {
    const b = dataBranch(node, parent, this.layers, this.format);
    return this.layers.hostPath(b.layer, b.rel);
  }

  /** Give a metacopy top-layer file its data, atomically (metadata and xattrs kept). */
  private materialize(node: ViewNode, dataLimit?: number): void {
    const upper = this.upperPath(node.path);
    const parent = this.parentDir(node.path);
    const lower = { ...node, branches: [{ layer: 0, rel: relOf(node.path) }] };
    const data = this.dataPath(lower, parent);
    const tmp = this.writer.tempPath();
    const st = host(() => lstatSync(upper));
    const prefilled = this.stager.take(data, Math.min(st.size, dataLimit ?? Infinity));
    copyObject(upper, st, tmp, {
      dataLimit, dataFrom: data, fsync: this.options.fsync, canChown: this.options.canChown, format: this.format, prefilled,
    });
    carryOrigin(upper, tmp, this.format); // inode numbers: the new inode keeps the record
    this.writer.renameInto(tmp, upper);
  }

  /** ENAMETOOLONG / EPERM for names the view cannot hold. */
  /**
   * The mode to make a new object in view directory `parent` with, from its caller's `mode` and
   * `umask` (undefined: the kernel applied it already). Under a default ACL the umask does not
   * apply: the ACL narrows the mode instead, as the host filesystem does when it makes the object
   * in its directory, and inheritFromParent when we build it in the work directory.
   */
  newMode(parent: ViewNode, mode: number, umask: number | undefined): number {
    if (!umask) return mode;
    return defaultAclOf(this.hostPath(parent)) === undefined ? mode & ~umask : mode;
  }

  checkNewName(name: string): void {
    if (Buffer.byteLength(name) > NAME_MAX) throw fsError('ENAMETOOLONG', name);
    if (this.format.isReservedName(name) || this.format.isInternal(name)) {
      throw fsError('EPERM', `${JSON.stringify(name)} is reserved by the ${this.format.id} whiteout format`);
    }
  }

  /**
   * Create a new entry at `absent` (a lookup that found nothing) with `make(hostPath)`, replacing a
   * whiteout in the top layer if there is one; a new directory over a whiteout is made opaque so
   * that the deleted lower contents stay deleted. Returns what `make` returned. `newInode` is
   * false for a hard link: an existing inode keeps its owner.
   */
  placeNew<T>(path: ViewPath, absent: ChildLookup, isDir: boolean, make: (hostPath: string) => T, newInode = true): T {
    if (absent.kind !== 'absent') throw fsError('EEXIST', path);
    const name = baseName(path);
    this.checkNewName(name);
    this.copyUp(absent.parent);
    this.noteChange(path, undefined);
    const target = this.upperPath(path);
    // `make` and the exchange below write `target` in place: reported, whatever they left.
    return this.writer.writing([target], () => this.placeAt(path, target, absent, isDir, make, newInode));
  }

  private placeAt<T>(path: ViewPath, target: string, absent: Extract<ChildLookup, { kind: 'absent' }>, isDir: boolean, make: (hostPath: string) => T, newInode: boolean): T {
    const name = baseName(path);
    const dirRel = relOf(absent.parent.path);
    if (absent.whiteoutAt !== 0) return make(target);
    const inPlace = this.format.markerFor(name) === undefined; // the whiteout occupies `target` itself
    // Built in the work directory, a new entry must still get what its real parent would give it.
    const build = (tmp: string) => {
      const result = make(tmp);
      if (newInode) inheritFromParent(tmp, this.upperPath(absent.parent.path), isDir); // not for a hard link
      return result;
    };
    if (isDir) {
      const tmp = this.writer.tempPath();
      const result = build(tmp);
      this.applyAt(tmp, this.format.makeOpaque(''));
      if (inPlace) {
        // Swap the finished directory with the whiteout in one step, then drop the whiteout.
        try {
          renameat2(tmp, target, RENAME_EXCHANGE);
          rmSync(tmp, { force: true });
          return result;
        } catch (e) {
          if (!isFsError(e, 'EINVAL', 'EPERM', 'EOPNOTSUPP', 'ENOSYS')) throw e;
        }
        this.writer.apply(this.format.unwhiteout(dirRel, name));
      }
      this.writer.renameInto(tmp, target);
      if (!inPlace) this.writer.apply(this.format.unwhiteout(dirRel, name));
      return result;
    }
    if (inPlace) {
      const tmp = this.writer.tempPath();
      const result = build(tmp);
      this.writer.renameInto(tmp, target); // atomically replaces the whiteout
      return result;
    }
    const result = make(target);
    this.writer.apply(this.format.unwhiteout(dirRel, name));
    return result;
  }

  /**
   * Remove `node` (a child of `parent`) from the view: delete its top-layer copy, and leave a
   * whiteout when a lower layer would otherwise show the name again. For directories the caller
   * has checked that the view of it is empty; what remains in its top-layer copy is bookkeeping.
   */
  removeNode(parent: ViewNode, node: ViewNode): void {
    const name = baseName(node.path);
    const dirRel = relOf(parent.path);
    const needWhiteout = lowerHas(parent, name, this.layers, this.format);
    const inPlace = this.format.markerFor(name) === undefined;
    this.noteChange(node.path, node);
    if (!isUpper(node)) {
      if (!needWhiteout) return; // cannot happen for a visible lower object; nothing to hide
      this.copyUp(parent);
      this.writer.apply(this.format.whiteout(dirRel, name));
      return;
    }
    const upper = this.upperPath(node.path);
    if (!needWhiteout) return this.discard(upper, node.entry.kind === 'dir');
    if (!inPlace) {
      // Marker first: while both exist the entry wins, so every intermediate state is consistent.
      this.writer.apply(this.format.whiteout(dirRel, name));
      return this.discard(upper, node.entry.kind === 'dir');
    }
    if (node.entry.kind !== 'dir') {
      this.writer.apply(this.format.whiteout(dirRel, name)); // rename over the entry: atomic
      return;
    }
    // A directory: move it out leaving a whiteout in one step (RENAME_WHITEOUT) where possible.
    const trash = this.writer.tempPath();
    try {
      this.writer.writing([upper], () => renameat2(upper, trash, RENAME_WHITEOUT));
    } catch (e) {
      if (!isFsError(e, 'EINVAL', 'EPERM', 'EOPNOTSUPP', 'ENOSYS')) throw e;
      this.writer.writing([upper], () => host(() => renameSync(upper, trash)));
      this.writer.apply(this.format.whiteout(dirRel, name));
    }
    rmSync(trash, { recursive: true, force: true });
  }

  /** Remove a top-layer entry; directories are first moved to the work area so removal is atomic. */
  discard(upper: string, isDir: boolean): void {
    if (!isDir) return this.writer.writing([upper], () => host(() => rmSync(upper)));
    const trash = this.writer.tempPath();
    this.writer.writing([upper], () => host(() => renameSync(upper, trash)));
    rmSync(trash, { recursive: true, force: true });
  }

  /** Apply format ops whose paths are relative to an arbitrary host directory (a temp copy). */
  applyAt(base: string, ops: readonly LayerOp[]): void {
    this.writer.apply(ops, base);
  }
}
