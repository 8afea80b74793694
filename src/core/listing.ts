// Merging one directory's listings across layers into what readdir shows: de-duplicated, whiteouts
// applied only to the layers below the one holding them, bookkeeping names removed. Pure.
import type { RawEntry, WhiteoutFormat } from './whiteout/format.js';

/** One entry as the host listed it. */
export interface ListedEntry extends RawEntry {
  readonly name: string;
}

/**
 * The merged, ordered list of visible names. `listings` is top layer first. A hashed marker (a
 * whiteout of a name too long for its own marker) hides the lower names whose marker it is.
 */
export function mergeListings(listings: readonly (readonly ListedEntry[])[], format: WhiteoutFormat): string[] {
  const seen = new Set<string>();
  const hidden = new Set<string>();
  const hashed = new Set<string>(); // hashed markers of the layers above the one being read
  const out: string[] = [];
  for (const entries of listings) {
    const hiddenHere: string[] = [];
    const hashedHere: string[] = [];
    for (const e of entries) {
      if (format.isHashedMarker(e.name)) { hashedHere.push(e.name); continue; }
      if (format.isInternal(e.name)) continue;
      const byMarker = format.hiddenByMarker(e.name);
      if (byMarker !== undefined) { hiddenHere.push(byMarker); continue; }
      if (format.isWhiteout(e)) { hiddenHere.push(e.name); continue; }
      if (format.isReservedName(e.name)) continue;
      if (seen.has(e.name) || hidden.has(e.name)) continue;
      if (hashed.size > 0 && hashed.has(format.markerFor(e.name) ?? '')) continue;
      seen.add(e.name);
      out.push(e.name);
    }
    // A whiteout hides lower layers only; an entry beside it in the same layer stays visible.
    for (const h of hiddenHere) hidden.add(h);
    for (const h of hashedHere) hashed.add(h);
  }
  return out;
}
