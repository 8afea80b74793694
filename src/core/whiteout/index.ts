// The table of whiteout formats, chosen per layer stack by id (`whiteout=` mount option).
import { aufsFormat } from './aufs.js';
import { overlayTrustedFormat, overlayUserFormat } from './overlay.js';
import type { WhiteoutFormat } from './format.js';

export type { WhiteoutFormat, RawEntry, EntryKind, LayerOp, MarkerSpec } from './format.js';

/** Every known format, by id. Add a row to add a format. */
export const WHITEOUT_FORMATS: ReadonlyMap<string, WhiteoutFormat> = new Map([
  [aufsFormat.id, aufsFormat],
  [overlayTrustedFormat.id, overlayTrustedFormat],
  [overlayUserFormat.id, overlayUserFormat],
]);

/** Look a format up by id; throws with the list of known ids when there is none. */
export function whiteoutFormat(id: string): WhiteoutFormat {
  const f = WHITEOUT_FORMATS.get(id);
  if (!f) throw new Error(`unknown whiteout format ${JSON.stringify(id)}; known: ${[...WHITEOUT_FORMATS.keys()].join(', ')}`);
  return f;
}
