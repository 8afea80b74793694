// A change reported in one layer directory, and the view names it may alter: the pure half of
// "a lower layer changed" (src/host/layer-watch.ts reports, fs/layer-notify.ts acts). Follows the
// resolver's rules (resolve.ts): whiteout and opaque markers, absolute and relative redirects.
import type { WhiteoutFormat } from './whiteout/format.js';

/**
 * Entry `name` of directory `dir` (layer-relative, '' for the root) in layer `layer` changed.
 * `contentOnly`: the same non-directory was written or had its attributes changed (inotify's
 * IN_MODIFY/IN_ATTRIB); otherwise the name itself may now be another object, or none.
 */
export interface LayerEvent {
  readonly layer: number;
  readonly dir: string;
  readonly name: string;
  readonly contentOnly?: boolean;
  /** "dev:ino" of a changed file with more than one name: its other names show the change too. */
  readonly key?: string;
}

/**
 * What the view may now show differently: entry `name` of view directory `dir` (relative to the
 * view's root, '' for the root) and everything below it; `name` undefined: every entry of `dir`.
 * `contentOnly`: only the data and attributes of the object the name shows (the name stands).
 */
export interface ViewChange {
  readonly dir: string;
  readonly name: string | undefined;
  readonly contentOnly?: boolean;
  /** With `contentOnly`: the host identity of a file with several names (every name's node goes). */
  readonly key?: string;
}

const parentOf = (rel: string) => (rel.lastIndexOf('/') < 0 ? '' : rel.slice(0, rel.lastIndexOf('/')));
const baseOf = (rel: string) => rel.slice(rel.lastIndexOf('/') + 1);
const join = (dir: string, name: string) => (dir === '' ? name : dir + '/' + name);

/**
 * The redirects recorded in a stack's layers: directory `rel` of layer `layer` shows the lower
 * layers' contents of another path. Kept up to date by whoever watches the layers.
 */
export class Redirects {
  /** "layer\0rel" -> the layer-relative path whose lower contents the directory shows. */
  private readonly byDir = new Map<string, { layer: number; at: string; from: string }>();

  get size(): number {
    return this.byDir.size;
  }

  /** Record the redirect value read on directory `rel` of `layer` (undefined: none, or removed). */
  set(layer: number, rel: string, value: string | undefined): void {
    const key = `${layer}\0${rel}`;
    if (value === undefined || value === '') {
      this.byDir.delete(key);
      return;
    }
    // Absolute: a path from the root; relative (overlayfs renames within one directory): a sibling.
    const from = value.startsWith('/') ? value.replace(/^\/+|\/+$/g, '') : join(parentOf(rel), value);
    this.byDir.set(key, { layer, at: rel, from });
  }

  /** Forget every redirect recorded at or below `rel` in `layer` (a directory removed or moved away). */
  dropUnder(layer: number, rel: string): void {
    for (const [k, r] of this.byDir) if (r.layer === layer && (rel === '' || r.at === rel || r.at.startsWith(rel + '/'))) this.byDir.delete(k);
  }

  /**
   * The view directories that may draw on directory `dir` of `layer`: `dir` itself and, for every
   * redirect recorded above `layer` whose source contains it, the redirected path (repeatedly, for
   * chains). A superset: invalidating a name that did not change costs one extra lookup.
   */
  viewDirsOf(layer: number, dir: string): string[] {
    const out = new Set<string>([dir]);
    if (this.byDir.size === 0) return [...out];
    for (let changed = true, rounds = 0; changed && rounds < 16; rounds++) {
      changed = false;
      for (const r of this.byDir.values()) {
        if (r.layer >= layer) continue;
        for (const c of [...out]) {
          if (c !== r.from && !(r.from === '' || c.startsWith(r.from + '/'))) continue;
          const mapped = r.at + c.slice(r.from.length);
          if (!out.has(mapped)) {
            out.add(mapped);
            changed = true;
          }
        }
      }
    }
    return [...out];
  }
}

/**
 * The view changes one layer event may cause. A whiteout marker stands for the name it hides; a
 * directory marker (opaque, redirect) for the whole directory, and so does a hashed marker (the
 * name it hides cannot be read from it: rare, names of 252-255 bytes); other internal names (a work
 * directory) for nothing.
 */
export function viewChangesOf(ev: LayerEvent, format: WhiteoutFormat, redirects: Redirects): ViewChange[] {
  const hidden = format.hiddenByMarker(ev.name);
  const whole = hidden === undefined && (isDirectoryMarker(ev.name, format) || format.isHashedMarker(ev.name));
  if (hidden === undefined && !whole && format.isInternal(ev.name)) return [];
  const out: ViewChange[] = [];
  // A marker written in place is still a marker: only a plain entry's content change is content only.
  const contentOnly = ev.contentOnly === true && hidden === undefined && !whole;
  for (const dir of redirects.viewDirsOf(ev.layer, ev.dir)) {
    if (contentOnly) out.push(ev.key === undefined ? { dir, name: ev.name, contentOnly: true } : { dir, name: ev.name, contentOnly: true, key: ev.key });
    else if (!whole) out.push({ dir, name: hidden ?? ev.name });
    else if (dir === '') out.push({ dir: '', name: undefined });
    else out.push({ dir: parentOf(dir), name: baseOf(dir) }); // the directory and all below it
  }
  return out;
}

/** Whether `name` is a marker entry of its directory (opaque, redirect) rather than an entry of the view. */
export function isDirectoryMarker(name: string, format: WhiteoutFormat): boolean {
  return (format.opaque.kind !== 'xattr' && name === format.opaque.name) || (format.redirect.kind !== 'xattr' && name === format.redirect.name);
}
