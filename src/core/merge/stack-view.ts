// A world's layer stack as the resolver reads it, drawn from a pool of layers (every world's own
// layer, read once): before a merge, and as it will be after — the ancestor's layer standing for
// the merged worlds' layers folded onto it (docs/merge.md, bystanders). Pure: reads go to the pool.
import type { ListedEntry } from '../listing.js';
import { relJoin } from '../paths.js';
import type { LayerProbe } from '../resolve.js';
import type { RawEntry, WhiteoutFormat } from '../whiteout/format.js';

/** Every world's own layer, by index: what HostLayers (or a test's MemoryLayers) offers. */
export interface LayerPool extends LayerProbe {
  list(layer: number, rel: string): readonly ListedEntry[];
}

/** One layer of a stack: a pool index, and optionally paths whose entries it must not show. */
export interface StackLayer {
  readonly world: string;
  readonly index: number;
  /** Paths (layer-relative, no leading slash) hidden with what lies below them (conflicts kept by the ancestor). */
  readonly skip?: (rel: string) => boolean;
}

/**
 * A LayerProbe whose layer i is pool layer `layers[i].index`. A skipped path is absent from its
 * layer (and a marker hiding it is too), so the stack shows what the layers below it show there.
 */
export class StackView implements LayerProbe {
  readonly layerCount: number;
  constructor(readonly pool: LayerPool, readonly layers: readonly StackLayer[], readonly format: WhiteoutFormat) {
    this.layerCount = layers.length;
  }

  /** The world and path an object of this stack comes from: equal for the same object in two stacks. */
  identity(layer: number, rel: string): string {
    return `${this.layers[layer]!.world}\0${rel}`;
  }

  /**
   * What a directory branch draws on: its identity, marked when the layer hides paths (it may
   * show fewer children than the same directory in a stack that hides nothing).
   */
  branchKey(layer: number, rel: string): string {
    return this.identity(layer, rel) + (this.layers[layer]!.skip === undefined ? '' : '\0skip');
  }

  entry(layer: number, rel: string): RawEntry | undefined {
    return this.hidden(layer, rel) ? undefined : this.pool.entry(this.layers[layer]!.index, rel);
  }

  isOpaque(layer: number, rel: string): boolean {
    return !this.hidden(layer, rel) && this.pool.isOpaque(this.layers[layer]!.index, rel);
  }

  redirectOf(layer: number, rel: string): string | undefined {
    return this.hidden(layer, rel) ? undefined : this.pool.redirectOf(this.layers[layer]!.index, rel);
  }

  list(layer: number, rel: string): readonly ListedEntry[] {
    const all = this.pool.list(this.layers[layer]!.index, rel);
    return this.layers[layer]!.skip === undefined ? all : all.filter((e) => !this.hidden(layer, relJoin(rel, e.name)));
  }

  private hidden(layer: number, rel: string): boolean {
    const skip = this.layers[layer]!.skip;
    if (skip === undefined) return false;
    if (skip(rel)) return true;
    const slash = rel.lastIndexOf('/');
    const hides = this.format.hiddenByMarker(rel.slice(slash + 1));
    return hides !== undefined && skip(slash < 0 ? hides : rel.slice(0, slash) + '/' + hides);
  }
}
