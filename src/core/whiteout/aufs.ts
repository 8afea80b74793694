// aufs-style whiteouts: `.wh.<name>` marker files, `.wh..wh..opq` for opaque directories.
// Needs no privilege (plain files only). Redirects, which aufs lacks, are a `.wh..wh..redir`
// symlink whose target is the directory's original absolute path (our extension; see docs/whiteouts.md).
import { inDir, type EntryKind, type LayerOp, type RawEntry, type WhiteoutFormat } from './format.js';

const WH = '.wh.';
const META = '.wh..wh.';
const OPAQUE = '.wh..wh..opq';
const REDIRECT = '.wh..wh..redir';

export const aufsFormat: WhiteoutFormat = {
  id: 'aufs',
  opaque: { kind: 'file', name: OPAQUE },
  redirect: { kind: 'symlink', name: REDIRECT },
  metacopy: 'user.worldos.metacopy', // our extension, as redirects are
  origin: 'user.worldos.origin', // inode-number bookkeeping (src/core/inode-number.ts)
  originTable: META + 'ino', // the same, for symlinks and special files (no user.* xattrs there)

  markerFor: (name) => WH + name,
  isWhiteout: (_entry: RawEntry) => false,
  hiddenByMarker: (name) => (name.startsWith(WH) && !name.startsWith(META) ? name.slice(WH.length) : undefined),
  isInternal: (name) => name.startsWith(META),
  isReservedName: (name) => name.startsWith(WH),
  isReservedDevice: (_kind: EntryKind, _rdev: number) => false,
  isInternalXattr: (name) => name.startsWith('user.worldos.'),
  whiteout: (dirRel, name): LayerOp[] => [{ op: 'create-marker', rel: inDir(dirRel, WH + name) }],
  unwhiteout: (dirRel, name): LayerOp[] => [{ op: 'remove', rel: inDir(dirRel, WH + name) }],
  makeOpaque: (dirRel): LayerOp[] => [{ op: 'create-marker', rel: inDir(dirRel, OPAQUE) }],
  setRedirect: (dirRel, target): LayerOp[] => [
    { op: 'remove', rel: inDir(dirRel, REDIRECT) },
    { op: 'symlink', rel: inDir(dirRel, REDIRECT), target },
  ],
  clearRedirect: (dirRel): LayerOp[] => [{ op: 'remove', rel: inDir(dirRel, REDIRECT) }],
};
