// Executes merge steps (src/core/merge/plan.ts) on real layer directories. Every step is
// idempotent, and after each one its index is appended to a progress file, so a merge killed at
// any point resumes at the step it was in (docs/merge.md).
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { MergeStep } from '../core/merge/plan.js';
import type { WhiteoutFormat } from '../core/whiteout/format.js';
import { host, hostCode } from './errors.js';
// Layer paths at any depth (a merge of objects past PATH_MAX: long-path.ts); the progress file and
// the trash directory, which are short, use node:fs.
import { chmodSync, chownSync, lstatSync, renameSync } from './host-fs.js';
import { removeAll } from './remove-tree.js';
import { LayerWriter } from './layer-writer.js';
import { copyObject, copyTimes, copyXattrs } from './copy-up.js';
import { getXattr, listXattrs, removeXattr } from './xattr.js';
import { carryOrigin, settleOrigins } from './inode-origin.js';

export interface MergeSides {
  /** The source world's layer and work directories. */
  readonly source: { readonly layer: string; readonly work: string };
  /** The target (ancestor) world's layer and work directories. */
  readonly target: { readonly layer: string; readonly work: string };
  readonly format: WhiteoutFormat;
  /** Where replaced target entries go; emptied by the caller when the merge is done. */
  readonly trash: string;
}

/**
 * The index of the last step of phase `phase` recorded in a progress file (-1 when none). Lines
 * are "<phase> <index>", so a line of another phase never counts, whatever order a crash left.
 */
export function lastDone(progressFile: string, phase: number): number {
  if (!existsSync(progressFile)) return -1;
  let last = -1;
  for (const line of readFileSync(progressFile, 'utf8').split('\n')) {
    const [p, i] = line.split(' ');
    if (Number(p) === phase && i !== undefined) last = Math.max(last, Number(i));
  }
  return last;
}

/** Run steps[from...] of phase `phase`, appending each finished index to `progressFile`. */
export function runSteps(sides: MergeSides, steps: readonly MergeStep[], progressFile: string, phase: number, from = lastDone(progressFile, phase) + 1,
  onStep?: (done: number) => void): void {
  const writers = {
    source: new LayerWriter(sides.source.layer, sides.source.work),
    target: new LayerWriter(sides.target.layer, sides.target.work),
  };
  mkdirSync(sides.trash, { recursive: true });
  let n = 0;
  for (let i = from; i < steps.length; i++) {
    runStep(sides, writers, steps[i]!, () => `${sides.trash}/${process.pid}.${Date.now()}.${n++}`);
    appendFileSync(progressFile, `${phase} ${i}\n`);
    onStep?.(i + 1); // how many of the phase's steps are done, for a progress line
  }
}

const at = (root: string, rel: string) => (rel === '' ? root : root + '/' + rel);
const exists = (p: string) => lstatSync(p, { throwIfNoEntry: false }) !== undefined;

function runStep(sides: MergeSides, writers: Record<'source' | 'target', LayerWriter>, step: MergeStep, trashName: () => string): void {
  switch (step.op) {
    case 'trash': {
      const p = at(sides.target.layer, step.rel);
      if (exists(p)) host(() => renameSync(p, trashName()));
      return;
    }
    case 'move': {
      const from = at(step.side === 'source' ? sides.source.layer : sides.target.layer, step.src);
      // Inode-number records survive only at their origin's place (inode-origin.ts, settleOrigins).
      if (!exists(from)) return settleOrigins(sides.target.layer, step.dst, sides.format); // done before a crash
      const to = at(sides.target.layer, step.dst);
      try {
        renameSync(from, to);
      } catch (e) {
        // A leftover directory at the destination can only be an earlier, interrupted attempt's
        // trash victim that came back; planning trashed it, so trash it again and retry.
        if (!['ENOTEMPTY', 'EEXIST', 'EISDIR', 'ENOTDIR'].includes(hostCode(e) ?? '')) throw e;
        host(() => renameSync(to, trashName()));
        host(() => renameSync(from, to));
      }
      settleOrigins(sides.target.layer, step.dst, sides.format);
      return;
    }
    case 'layer':
      writers[step.side].apply(step.ops);
      return;
    case 'meta': {
      const src = at(sides.source.layer, step.rel);
      const dst = at(sides.target.layer, step.rel);
      if (!exists(src) || !exists(dst)) return;
      copyMetadata(src, dst, sides.format);
      return;
    }
    case 'materialize': {
      const src = at(sides.source.layer, step.rel);
      if (!exists(src) || getXattr(src, sides.format.metacopy) === undefined) return; // done before a crash
      const tmp = writers.source.tempPath();
      copyObject(src, lstatSync(src), tmp, {
        dataFrom: step.from, fsync: false, canChown: process.getuid?.() === 0, format: sides.format,
      });
      carryOrigin(src, tmp, sides.format);
      writers.source.renameInto(tmp, src);
      return;
    }
    case 'attrs': {
      const src = at(sides.source.layer, step.rel);
      const dst = at(sides.target.layer, step.rel);
      const st = lstatSync(src, { throwIfNoEntry: false });
      if (!st || !exists(dst)) return;
      if (process.getuid?.() === 0) host(() => chownSync(dst, st.uid, st.gid));
      host(() => chmodSync(dst, st.mode & 0o7777));
      copyTimes(src, dst);
      return;
    }
  }
}

/** Make `dst` carry `src`'s mode, owner, times and extended attributes (format ones excepted). */
function copyMetadata(src: string, dst: string, format: WhiteoutFormat): void {
  const st = lstatSync(src);
  for (const name of listXattrs(dst)) {
    if (!format.isInternalXattr(name) && getXattr(src, name) === undefined) removeXattr(dst, name);
  }
  copyXattrs(src, dst, format);
  if (process.getuid?.() === 0) host(() => chownSync(dst, st.uid, st.gid));
  host(() => chmodSync(dst, st.mode & 0o7777));
  copyTimes(src, dst);
}

/** Remove everything in the trash directory. */
export function emptyTrash(trash: string): void {
  removeAll(trash);
}
