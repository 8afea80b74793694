// worldctl diff: the content of what a world changed against what its parents show, read from
// the layers (no mount needed). Which paths changed comes from src/host/diff.ts; how each one is
// shown is decided in src/core/content-diff.ts; text diffs come from src/host/unified-diff.ts.
import { closeSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs';
import { diffItems, passesFilters, type DiffItem, type DiffSide } from '../core/content-diff.js';
import { dataBranch } from '../core/metacopy.js';
import { parentOf, type ViewPath } from '../core/paths.js';
import { resolveBelow } from '../core/resolve.js';
import { diffTopLayer } from '../host/diff.js';
import type { HostLayers } from '../host/layer-probe.js';
import { mustFindByName, type WorldsContext } from './context.js';
import { hostStack } from './stack.js';

/** Git's and diff's test for binary data: a NUL byte in the first 8 KiB. */
function looksText(host: string): boolean {
  const fd = openSync(host, 'r');
  try {
    const buf = Buffer.alloc(8192);
    const n = readSync(fd, buf, 0, buf.length, 0);
    return !buf.subarray(0, n).includes(0);
  } finally {
    closeSync(fd);
  }
}

/** What the stack of layers fromLayer..end shows at `path` (1: the parents' view), if anything. */
function sideAt(layers: HostLayers, path: ViewPath, fromLayer: number): DiffSide | undefined {
  const r = resolveBelow(path, layers, layers.format, fromLayer);
  if (r?.kind !== 'found') return undefined;
  const node = r.node;
  const top = layers.hostPath(node.branches[0]!.layer, node.branches[0]!.rel);
  const st = lstatSync(top);
  const base = { kind: node.entry.kind, perm: st.mode & 0o7777, size: st.size, host: top, text: false };
  switch (node.entry.kind) {
    case 'file': {
      const dir = resolveBelow(parentOf(path), layers, layers.format, fromLayer);
      const b = dir?.kind === 'found' ? dataBranch(node, dir.node, layers, layers.format) : node.branches[0]!;
      const host = layers.hostPath(b.layer, b.rel);
      return { ...base, host, size: lstatSync(host).size, text: looksText(host) };
    }
    case 'symlink':
      return { ...base, target: readlinkSync(top) };
    case 'chardev':
    case 'blockdev':
      return { ...base, device: `${Math.floor(st.rdev / 256) & 0xfff}:${(st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)}` };
    default:
      return base;
  }
}

/**
 * The diff items of world `name`'s own changes, in path order, for the paths at or under
 * `filters` (all when empty). The base world changes nothing: no items.
 */
export function worldDiff(ctx: WorldsContext, name: string, filters: readonly ViewPath[]): DiffItem[] {
  const reg = ctx.store.read();
  const world = mustFindByName(reg, name);
  if (world.base) return [];
  const layers = hostStack(reg, world.id, ctx.layout, ctx.lineage);
  const out: DiffItem[] = [];
  for (const ch of diffTopLayer(layers)) {
    if (!passesFilters(ch.path, filters)) continue;
    if (ch.from !== undefined) {
      out.push({ kind: 'note', path: ch.path, line: `renamed ${ch.from}/ to ${ch.path}/` });
      continue;
    }
    const before = ch.change === 'added' ? undefined : sideAt(layers, ch.path, 1);
    const after = ch.change === 'deleted' ? undefined : sideAt(layers, ch.path, 0);
    out.push(...diffItems(ch.path, ch.change, before, after));
  }
  return out;
}
