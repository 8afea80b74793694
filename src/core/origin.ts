// Where the lower layers know a top-layer directory: overlayfs's ovl_get_redirect. A directory's
// own absolute redirect wins; otherwise its parent's origin plus its name (or relative redirect).
// Pure over a LayerProbe (layer 0 is the top).
import { baseName, parentOf, relOf, ROOT, type ViewPath } from './paths.js';
import type { LayerProbe } from './resolve.js';

export function originOf(path: ViewPath, probe: LayerProbe): string {
  if (path === ROOT) return '/';
  const rel = relOf(path);
  const e = probe.entry(0, rel);
  const redirect = e?.kind === 'dir' ? probe.redirectOf(0, rel) : undefined;
  if (redirect?.startsWith('/')) return redirect;
  const parent = originOf(parentOf(path), probe);
  const name = redirect ?? baseName(path);
  return parent === '/' ? '/' + name : parent + '/' + name;
}
