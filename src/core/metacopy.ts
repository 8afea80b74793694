// Metacopy files (overlayfs's metacopy=on): a regular file in a layer that carries only metadata;
// its data is the file the layers below show at the same place — or at its own redirect, when it
// was renamed. Pure over a probe.
import { fsError } from './errors.js';
import { baseName, parentOf, type ViewPath } from './paths.js';
import { lookupChild, resolveBelow, type Branch, type LayerProbe, type ViewNode } from './resolve.js';
import type { WhiteoutFormat } from './whiteout/format.js';

export interface MetacopyProbe extends LayerProbe {
  isMetacopy(layer: number, rel: string): boolean;
}

/**
 * The branch holding the data of regular file `node` (its own when it is not metacopy).
 * `parent` is the view node of its directory. EIO when a metacopy file has no data below it.
 * A file of the lowest layer is its own data whatever it carries: nothing lies below it (a host
 * root's files may carry overlayfs's own metacopy xattr, in a docker upper directory say), and
 * not asking saves an xattr read on every open of a world's base file (mandb: 53,000 of them).
 */
export function dataBranch(node: ViewNode, parent: ViewNode, probe: MetacopyProbe, format: WhiteoutFormat): Branch {
  let cur = node;
  let dir = parent;
  for (let hops = 0; hops < probe.layerCount; hops++) {
    const b = cur.branches[0]!;
    if (cur.entry.kind !== 'file' || b.layer >= probe.layerCount - 1 || !probe.isMetacopy(b.layer, b.rel)) return b;
    const redirect = probe.redirectOf(b.layer, b.rel);
    let lowerDir: ViewNode | undefined;
    let name: string;
    if (redirect?.startsWith('/')) {
      const p = resolveBelow(parentOf(redirect as ViewPath), probe, format, b.layer + 1);
      lowerDir = p?.kind === 'found' && p.node.entry.kind === 'dir' ? p.node : undefined;
      name = baseName(redirect as ViewPath);
    } else {
      lowerDir = { ...dir, branches: dir.branches.filter((x) => x.layer > b.layer) };
      name = redirect ?? baseName(cur.path);
    }
    const next = lowerDir && lowerDir.branches.length > 0 ? lookupChild(lowerDir, name, probe, format) : undefined;
    if (next?.kind !== 'found' || next.node.entry.kind !== 'file') {
      throw fsError('EIO', `${node.path} is a metadata-only copy whose data is missing from the lower layers`);
    }
    dir = lowerDir!;
    cur = next.node;
  }
  throw fsError('EIO', `${node.path}: metacopy chain longer than the layer stack`);
}
