// Extract a planned OCI layer (import-plan.ts) into an empty layer directory of the store's
// whiteout format: entries written in archive order, OCI whiteouts as the format's own markers
// (through LayerWriter), then directories' metadata deepest first (so their times survive the
// writes into them). The caller extracts into a staging directory and removes it on any failure.
import { chmodSync, createWriteStream, existsSync, lchownSync, linkSync, mkdirSync, symlinkSync } from 'node:fs';
import { constants } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { host } from '../host/errors.js';
import { LayerWriter } from '../host/layer-writer.js';
import { mknodRaw, utimensNs } from '../host/syscalls.js';
import { setXattr } from '../host/xattr.js';
import type { ImportPlan, Meta } from './import-plan.js';
import { relAncestors, relParent } from './entry-path.js';
import { readTar } from './tar-read.js';

const { S_IFIFO, S_IFCHR, S_IFBLK } = constants;

export interface ExtractTarget {
  /** The (empty) layer directory to fill. */
  readonly layer: string;
  /** A scratch directory on the same filesystem (whiteout markers are built there). */
  readonly work: string;
  /** Whether ownership from the archive is applied (root); otherwise files are the importer's. */
  readonly canChown: boolean;
  /** Metadata for directories the archive only implies (e.g. the parent world's); default 0755. */
  implicitMeta(rel: string): Meta | undefined;
}

/**
 * Write the layer `file` into `target.layer` as `plan` says (the plan must come from this very
 * file's headers). Resolves to the archive's diff_id, to compare with the one planned from.
 */
export async function extractLayer(file: string, plan: ImportPlan, target: ExtractTarget): Promise<string> {
  const writer = new LayerWriter(target.layer, target.work);
  mkdirSync(target.work, { recursive: true, mode: 0o700 });
  const dirMeta = new Map<string, Meta | undefined>([['', undefined]]);
  const at = (rel: string) => (rel === '' ? target.layer : target.layer + '/' + rel);
  const ensureDir = (rel: string) => {
    for (const a of [...relAncestors(rel), rel]) {
      if (a === '' || dirMeta.has(a)) continue;
      if (!existsSync(at(a))) host(() => mkdirSync(at(a), { mode: 0o700 }));
      dirMeta.set(a, undefined);
    }
  };
  const diffId = await readTar(file, async (_e, i, data: Readable) => {
    const step = plan.steps[i];
    if (step === undefined) return;
    if (step.op !== 'layer-ops') ensureDir(relParent(step.rel));
    switch (step.op) {
      case 'dir':
        ensureDir(step.rel);
        dirMeta.set(step.rel, step.meta);
        return;
      case 'file': {
        await pipeline(data, createWriteStream(at(step.rel), { flags: 'wx', mode: 0o600 }));
        applyMeta(at(step.rel), step.meta, target.canChown, false);
        return;
      }
      case 'symlink':
        host(() => symlinkSync(step.target, at(step.rel)));
        applyMeta(at(step.rel), step.meta, target.canChown, true);
        return;
      case 'hardlink':
        host(() => linkSync(at(step.target), at(step.rel)));
        return;
      case 'node': {
        const type = step.kind === 'fifo' ? S_IFIFO : step.kind === 'chardev' ? S_IFCHR : S_IFBLK;
        mknodRaw(at(step.rel), type | 0o600, step.major, step.minor);
        applyMeta(at(step.rel), step.meta, target.canChown, false);
        return;
      }
      case 'layer-ops':
        ensureDir(step.dir);
        writer.apply(step.ops);
        return;
    }
  });
  for (const d of plan.implicitDirs) ensureDir(d);
  // Deepest first: setting a directory's mode or times before its children would be undone by them.
  const dirs = [...dirMeta.keys()].sort((a, b) => depth(b) - depth(a) || (a < b ? 1 : -1));
  for (const d of dirs) {
    const meta = dirMeta.get(d) ?? target.implicitMeta(d) ?? { mode: 0o755, uid: -1, gid: -1, mtimeNs: -1n, xattrs: new Map() };
    applyMeta(at(d), meta, target.canChown, false);
  }
  return diffId;
}

function depth(rel: string): number {
  return rel === '' ? 0 : rel.split('/').length;
}

/** xattrs, then owner, then mode (chown clears setuid bits), then times; symlinks: no mode. */
function applyMeta(path: string, meta: Meta, canChown: boolean, isLink: boolean): void {
  for (const [name, value] of meta.xattrs) setXattr(path, name, value);
  if (canChown && meta.uid >= 0) host(() => lchownSync(path, meta.uid, meta.gid));
  if (!isLink) host(() => chmodSync(path, meta.mode));
  if (meta.mtimeNs >= 0n) utimensNs(path, meta.mtimeNs, meta.mtimeNs);
}
