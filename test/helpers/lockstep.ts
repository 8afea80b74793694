// Differential runner: applies the same operations, one at a time, to an oracle tree (kernel
// overlayfs) and to the tree under test (worldfs), and fails at the first operation whose outcome
// differs, or at the first checkpoint where the visible trees differ. The failure message names
// the seed, the op index and the op, and lists the differing entries, so it can be replayed.
import { lstatSync } from 'node:fs';
import { applyOp, describeOp, errorCode, pathsOf, type Op } from './fs-ops.js';
import { diffSnapshots, snapshotTree, summarizeStat } from './tree-snapshot.js';

export interface Side {
  readonly label: string;
  readonly root: string;
}

export interface LockstepRun {
  /** What regenerates `ops` (a seed, or a scenario's name): printed on failure. */
  readonly origin: string;
  readonly ops: readonly Op[];
  readonly oracle: Side;
  readonly subject: Side;
  /** Compare whole trees after every this many ops (and always after the last). */
  readonly checkpointEvery: number;
}

export class DifferenceError extends Error {
  constructor(message: string, readonly opIndex: number) {
    super(message);
    this.name = 'DifferenceError';
  }
}

const MAX_LINES = 25;

function statLine(root: string, path: string): string {
  try {
    return summarizeStat(lstatSync(root + path));
  } catch (e) {
    return errorCode(e);
  }
}

function history(ops: readonly Op[], upTo: number, n = 8): string {
  const from = Math.max(0, upTo - n + 1);
  return ops.slice(from, upTo + 1).map((op, k) => `    #${from + k} ${describeOp(op)}`).join('\n');
}

/** Compare the whole visible trees; throws a DifferenceError describing every differing entry. */
export function compareTrees(run: LockstepRun, afterOp: number, since: number): void {
  const { oracle, subject } = run;
  const lines = diffSnapshots(snapshotTree(oracle.root), snapshotTree(subject.root), [oracle.label, subject.label]);
  if (lines.length === 0) return;
  const where = afterOp < 0 ? 'before any operation' : `after op #${afterOp} (trees last agreed after op #${since})`;
  throw new DifferenceError(
    `${subject.label} differs from ${oracle.label} [${run.origin}] ${where}; ${lines.length} differing entries:\n` +
      lines.slice(0, MAX_LINES).map((l) => `  ${l}`).join('\n') +
      (lines.length > MAX_LINES ? `\n  ... ${lines.length - MAX_LINES} more` : '') +
      (afterOp >= 0 ? `\n  last ops:\n${history(run.ops, afterOp)}` : ''),
    afterOp,
  );
}

/** Run the ops on both sides in lockstep; throws a DifferenceError at the first difference. */
export function runLockstep(run: LockstepRun): void {
  const { oracle, subject, ops } = run;
  let agreed = -1;
  compareTrees(run, -1, -1);
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i]!;
    const expected = applyOp(oracle.root, op);
    const actual = applyOp(subject.root, op);
    if (expected !== actual) {
      const states = pathsOf(op)
        .map((p) => `    ${p}: ${oracle.label}=${statLine(oracle.root, p)} | ${subject.label}=${statLine(subject.root, p)}`)
        .join('\n');
      throw new DifferenceError(
        `${subject.label} differs from ${oracle.label} [${run.origin}] at op #${i}: ${describeOp(op)}\n` +
          `  ${oracle.label}: ${expected}\n  ${subject.label}: ${actual}\n` +
          `  op: ${JSON.stringify(op)}\n  paths after the op:\n${states}\n  last ops:\n${history(ops, i)}`,
        i,
      );
    }
    if ((i + 1) % run.checkpointEvery === 0 || i === ops.length - 1) {
      compareTrees(run, i, agreed);
      agreed = i;
    }
  }
}
