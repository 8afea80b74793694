// How a layer records deletions (whiteouts), opaque directories and renamed directories (redirects).
// A format is pure: it classifies entries and returns the LayerOps to perform; src/host applies them.
// Follows overlayfs (Documentation/filesystems/overlayfs.rst) and aufs (.wh. markers).

/** The kind of one directory entry on the host. */
export type EntryKind = 'file' | 'dir' | 'symlink' | 'fifo' | 'chardev' | 'blockdev' | 'socket';

/** What the resolver needs to know about one entry in one layer (from lstat). */
export interface RawEntry {
  readonly kind: EntryKind;
  /** Device number for chardev/blockdev entries, 0 otherwise. */
  readonly rdev: number;
}

/** Where a per-directory flag (opaque) or value (redirect) is kept. */
export type MarkerSpec =
  | { readonly kind: 'file'; readonly name: string }      // an entry inside the directory
  | { readonly kind: 'symlink'; readonly name: string }   // an entry inside the directory; value = link target
  | { readonly kind: 'xattr'; readonly name: string };    // an extended attribute on the directory

/** One change to the top layer, performed by src/host/layer-writer.ts. Paths are layer-relative. */
export type LayerOp =
  | { readonly op: 'mknod-whiteout'; readonly rel: string }                 // character device 0/0
  | { readonly op: 'create-marker'; readonly rel: string }                  // empty regular file
  | { readonly op: 'symlink'; readonly rel: string; readonly target: string }
  | { readonly op: 'set-xattr'; readonly rel: string; readonly name: string; readonly value: string }
  | { readonly op: 'remove-xattr'; readonly rel: string; readonly name: string }             // absent is fine
  | { readonly op: 'remove'; readonly rel: string };                        // unlink, absent is fine

/**
 * A whiteout format. Researchers add one by writing a file like aufs.ts and one row in index.ts.
 * Default behaviours are spelled out on each member; none may do I/O.
 */
export interface WhiteoutFormat {
  readonly id: string;
  /** How a directory is marked opaque (lower layers' contents below it are not merged). */
  readonly opaque: MarkerSpec;
  /** How a renamed lower directory records where its lower contents still live. */
  readonly redirect: MarkerSpec;
  /**
   * The xattr that marks a regular file in a layer as metadata only: its data is the lower file at
   * the same place (or at its redirect). Reading such files is always supported.
   */
  readonly metacopy: string;
  /**
   * The xattr on a copied-up object that names the object whose inode number it keeps reporting
   * (src/core/inode-number.ts). Internal: hidden, never copied as user data. Symlinks and special
   * files cannot carry a `user.*` xattr, so with such a name only files and directories keep theirs.
   */
  readonly origin: string;
  /**
   * Where a layer keeps the origin records of objects that cannot carry `origin` (symlinks and
   * special files, when it is a `user.*` name): an internal directory at the layer root, one entry
   * per inode ("<ino>.<birth time ns>", a symlink whose target is the record). Undefined: the format
   * has no internal names to spare, and such objects take a number of their own on copy-up.
   */
  readonly originTable?: string;
  /**
   * The name of the separate marker entry that whites out `name`, or undefined when the format
   * stores the whiteout in place of the entry itself (then `isWhiteout` recognises it).
   */
  markerFor(name: string): string | undefined;
  /**
   * Whether `name` (as listed) is a marker whose name cannot be read back into the name it hides
   * (aufs: a hashed marker for a name too long for `.wh.<name>`). What it hides is found by asking
   * `markerFor` of the names that could be hidden (hiddenByHashed in hashed-marker.ts). Such markers
   * are also internal names. False in formats that whiteout in place (overlay).
   */
  isHashedMarker(name: string): boolean;
  /** True when an entry, found under its own name, is itself a whiteout (overlay: char 0/0). */
  isWhiteout(entry: RawEntry): boolean;
  /** If `name` (as listed by readdir) is a separate whiteout marker, the name it hides. */
  hiddenByMarker(name: string): string | undefined;
  /** Names that are part of the format's bookkeeping: never shown, never looked up. */
  isInternal(name: string): boolean;
  /** Names a user may not create because the format would misread them (answered with EPERM). */
  isReservedName(name: string): boolean;
  /** Device nodes a user may not create because they would read as whiteouts (EPERM). */
  isReservedDevice(kind: EntryKind, rdev: number): boolean;
  /** Extended attributes owned by the format: hidden from listxattr/getxattr, refused by setxattr. */
  isInternalXattr(name: string): boolean;
  /** Ops that white out `name` inside directory `dirRel`. Assumes no real entry named `name` remains. */
  whiteout(dirRel: string, name: string): LayerOp[];
  /** Ops that remove a whiteout of `name` in `dirRel` (before or after a real entry is placed there). */
  unwhiteout(dirRel: string, name: string): LayerOp[];
  /** Ops that mark directory `dirRel` opaque. */
  makeOpaque(dirRel: string): LayerOp[];
  /** Ops that record, on directory `dirRel`, that its lower contents live at `target` (absolute). */
  setRedirect(dirRel: string, target: string): LayerOp[];
  /** Ops that remove a redirect from directory `dirRel` (absent is fine). */
  clearRedirect(dirRel: string): LayerOp[];
}

/** Join a layer-relative directory and a name. */
export function inDir(dirRel: string, name: string): string {
  return dirRel === '' ? name : dirRel + '/' + name;
}
