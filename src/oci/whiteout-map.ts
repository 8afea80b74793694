// OCI whiteouts (image-spec layer.md): `.wh.<name>` deletes <name> from the layers below, and
// `.wh..wh..opq` in a directory hides everything the layers below have in it. Pure: names only.
// Converting them to a store's own format is the format's job (WhiteoutFormat.whiteout/makeOpaque).

export const OCI_WHITEOUT_PREFIX = '.wh.';
export const OCI_OPAQUE = '.wh..wh..opq';

/** What one tar entry name means to an OCI layer. */
export type OciName =
  | { readonly kind: 'entry' }                         // a real file, directory, link...
  | { readonly kind: 'whiteout'; readonly hides: string }
  | { readonly kind: 'opaque' }
  | { readonly kind: 'reserved' };                     // `.wh..wh.<other>` (or a bare `.wh.`): meaningless, refused

/** Classify the last component of an entry's path. */
export function classifyOciName(base: string): OciName {
  if (base === OCI_OPAQUE) return { kind: 'opaque' };
  if (!base.startsWith(OCI_WHITEOUT_PREFIX)) return { kind: 'entry' };
  const hides = base.slice(OCI_WHITEOUT_PREFIX.length);
  if (hides === '' || hides === '.' || hides === '..' || hides.startsWith(OCI_WHITEOUT_PREFIX)) return { kind: 'reserved' };
  return { kind: 'whiteout', hides };
}

/** The tar name of a whiteout for `name` in layer-relative directory `dirRel`. */
export function whiteoutEntryName(dirRel: string, name: string): string {
  return (dirRel === '' ? '' : dirRel + '/') + OCI_WHITEOUT_PREFIX + name;
}

/** The tar name of the opaque marker of layer-relative directory `dirRel`. */
export function opaqueEntryName(dirRel: string): string {
  return (dirRel === '' ? '' : dirRel + '/') + OCI_OPAQUE;
}

/**
 * Extended attributes that are some union filesystem's bookkeeping, never user data: overlayfs's
 * (`trusted.overlay.*`, `user.overlay.*`) and worldfs's own (`user.worldos.*`). Export drops them
 * (they are resolved into plain entries); import refuses them (they would make the layer misread).
 */
export function isUnionXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.') || name.startsWith('user.worldos.');
}
