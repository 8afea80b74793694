// overlayfs-style whiteouts: a character device 0/0 in place of the deleted name, the
// `<prefix>opaque` xattr ("y") on opaque directories and `<prefix>redirect` on renamed ones.
// With prefix `trusted.overlay.` the layers mount unchanged with kernel overlayfs (redirect_dir=on);
// `user.overlay.` matches overlayfs's `userxattr` mode for unprivileged users.
import { inDir, type EntryKind, type LayerOp, type RawEntry, type WhiteoutFormat } from './format.js';

/** Build the overlay format for an xattr prefix ('trusted.overlay.' or 'user.overlay.'). */
export function overlayFormat(id: string, prefix: string): WhiteoutFormat {
  const isDev00 = (kind: EntryKind, rdev: number) => kind === 'chardev' && rdev === 0;
  return {
    id,
    opaque: { kind: 'xattr', name: prefix + 'opaque' },
    redirect: { kind: 'xattr', name: prefix + 'redirect' },
    metacopy: prefix + 'metacopy',
    // Not overlayfs's own `origin` (a file handle): a name the kernel ignores, hides and never copies up.
    origin: prefix + 'worldos.origin',
    markerFor: () => undefined,
    isHashedMarker: () => false,
    isWhiteout: (entry: RawEntry) => isDev00(entry.kind, entry.rdev),
    hiddenByMarker: () => undefined,
    isInternal: () => false,
    isReservedName: () => false,
    isReservedDevice: isDev00,
    isInternalXattr: (name) => name.startsWith(prefix),
    whiteout: (dirRel, name): LayerOp[] => [{ op: 'mknod-whiteout', rel: inDir(dirRel, name) }],
    // The whiteout is the entry itself: placing a real entry replaces it (rename over it, or remove).
    unwhiteout: (dirRel, name): LayerOp[] => [{ op: 'remove', rel: inDir(dirRel, name) }],
    makeOpaque: (dirRel): LayerOp[] => [{ op: 'set-xattr', rel: dirRel, name: prefix + 'opaque', value: 'y' }],
    setRedirect: (dirRel, target): LayerOp[] => [{ op: 'set-xattr', rel: dirRel, name: prefix + 'redirect', value: target }],
    clearRedirect: (dirRel): LayerOp[] => [{ op: 'remove-xattr', rel: dirRel, name: prefix + 'redirect' }],
  };
}

export const overlayTrustedFormat = overlayFormat('overlay', 'trusted.overlay.');
export const overlayUserFormat = overlayFormat('overlay-user', 'user.overlay.');
