// aufs-style whiteouts: `.wh.<name>` marker files, `.wh..wh..opq` for opaque directories.
// Needs no privilege (plain files only). A name of 252-255 bytes, whose `.wh.` marker would pass
// NAME_MAX, is whited out by a hashed internal marker instead (hashed-marker.ts). Redirects, which aufs lacks, are a `.wh..wh..redir`
// symlink whose target is the directory's original absolute path (our extension; see docs/whiteouts.md).
import { inDir, type EntryKind, type LayerOp, type RawEntry, type WhiteoutFormat } from './format.js';
import { fitsWithPrefix, hashedMarker, isHashedMarker } from './hashed-marker.js';

const WH = '.wh.';
const META = '.wh..wh.';
const OPAQUE = '.wh..wh..opq';
const REDIRECT = '.wh..wh..redir';

const markerFor = (name: string): string => (fitsWithPrefix(WH, name) ? WH + name : hashedMarker(name));

export const aufsFormat: WhiteoutFormat = {
  id: 'aufs',
  opaque: { kind: 'file', name: OPAQUE },
  redirect: { kind: 'symlink', name: REDIRECT },
  metacopy: 'user.worldos.metacopy', // our extension, as redirects are
  origin: 'user.worldos.origin', // inode-number bookkeeping (src/core/inode-number.ts)
  originTable: META + 'ino', // the same, for symlinks and special files (no user.* xattrs there)

  markerFor,
  isHashedMarker,
  isWhiteout: (_entry: RawEntry) => false,
  hiddenByMarker: (name) => (name.startsWith(WH) && !name.startsWith(META) ? name.slice(WH.length) : undefined),
  isInternal: (name) => name.startsWith(META),
  isReservedName: (name) => name.startsWith(WH),
  isReservedDevice: (_kind: EntryKind, _rdev: number) => false,
  isInternalXattr: (name) => name.startsWith('user.worldos.'),
  whiteout: (dirRel, name): LayerOp[] => [{ op: 'create-marker', rel: inDir(dirRel, markerFor(name)) }],
  unwhiteout: (dirRel, name): LayerOp[] => [{ op: 'remove', rel: inDir(dirRel, markerFor(name)) }],
  makeOpaque: (dirRel): LayerOp[] => [{ op: 'create-marker', rel: inDir(dirRel, OPAQUE) }],
  setRedirect: (dirRel, target): LayerOp[] => [
    { op: 'remove', rel: inDir(dirRel, REDIRECT) },
    { op: 'symlink', rel: inDir(dirRel, REDIRECT), target },
  ],
  clearRedirect: (dirRel): LayerOp[] => [{ op: 'remove', rel: inDir(dirRel, REDIRECT) }],
};
