// Where the lower layers know a top-layer directory: overlayfs's ovl_get_redirect. A directory's
// own absolute redirect wins; otherwise its parent's origin plus its name (or relative redirect).
// Pure over a LayerProbe (layer 0 is the top).
import { relOf, ROOT, type ViewPath } from './paths.js';
import type { LayerProbe } from './resolve.js';

export function originOf(path: ViewPath, probe: LayerProbe): string {
  return path === ROOT ? '/' : '/' + originIn(probe, 0, relOf(path));
}

/**
 * The same for directory `rel` of any layer: the path (relative, '' for the root) at which the
 * layers below `layer` hold what `rel` holds in it, following `layer`'s redirects.
 */
export function originIn(probe: LayerProbe, layer: number, rel: string): string {
  if (rel === '') return '';
  const e = probe.entry(layer, rel);
  const redirect = e?.kind === 'dir' ? probe.redirectOf(layer, rel) : undefined;
  if (redirect?.startsWith('/')) return redirect.slice(1);
  const cut = rel.lastIndexOf('/');
  const name = redirect ?? rel.slice(cut + 1);
  const parent = cut < 0 ? '' : originIn(probe, layer, rel.slice(0, cut));
  return parent === '' ? name : parent + '/' + name;
}
