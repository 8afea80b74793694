// Differential runner: applies the same operations, one at a time, to an oracle tree (kernel
// overlayfs) and to the tree under test (worldfs), and fails at the first operation whose outcome
// differs, or at the first checkpoint where the visible trees differ. The failure message names
// the origin (seed or scenario), the op index and the op, and lists the differing entries; the
// ops run so far are saved to a JSON file, so the exact sequence can be replayed as a scenario.
import { lstatSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atClientPath } from './deep-path.js';
import { applyOp, describeOp, errorCode, pathsOf, type Op } from './fs-ops.js';
import { diffSnapshots, snapshotTree, summarizeStat } from './tree-snapshot.js';

export interface Side {
  readonly label: string;
  readonly root: string;
}

/** Ops drawn one at a time: `next(i)` is called after ops 0..i-1 ran on both sides. */
export interface OpSource {
  readonly count: number;
  next(i: number, oracleRoot: string): Op;
}

export interface LockstepRun {
  /** What regenerates the ops (a seed, or a scenario's name): printed on failure. */
  readonly origin: string;
  readonly ops: readonly Op[] | OpSource;
  readonly oracle: Side;
  readonly subject: Side;
  /** Compare whole trees after every this many ops (and always after the last). */
  readonly checkpointEvery: number;
}

/** What a run did: the ops and the outcome of each (the same on both sides). */
export interface LockstepResult {
  readonly ops: readonly Op[];
  readonly outcomes: readonly string[];
}

export class DifferenceError extends Error {
  constructor(message: string, readonly opIndex: number, readonly ops: readonly Op[]) {
    super(message);
    this.name = 'DifferenceError';
  }
}

const MAX_LINES = 25;

function statLine(root: string, path: string): string {
  try {
    return summarizeStat(atClientPath(root + path, (p) => lstatSync(p)));
  } catch (e) {
    return errorCode(e);
  }
}

function history(ops: readonly Op[], upTo: number, n = 8): string {
  const from = Math.max(0, upTo - n + 1);
  return ops.slice(from, upTo + 1).map((op, k) => `    #${from + k} ${describeOp(op)}`).join('\n');
}

/** Save the ops that led to a difference; returns the file's path. */
function saveOps(origin: string, ops: readonly Op[]): string {
  const file = join(tmpdir(), `worldos-differential-${origin.replace(/[^A-Za-z0-9]+/g, '-').slice(0, 80)}.json`);
  writeFileSync(file, JSON.stringify(ops, null, 0).replace(/\},\{/g, '},\n{') + '\n');
  return file;
}

function fail(run: LockstepRun, done: readonly Op[], at: number, text: string): never {
  const file = saveOps(run.origin, done);
  throw new DifferenceError(
    `${text}\n  last ops:\n${history(done, at)}\n  all ${done.length} ops run so far: ${file}`,
    at, done,
  );
}

/** Compare the whole visible trees; fails with every differing entry. */
function compareTrees(run: LockstepRun, done: readonly Op[], afterOp: number, since: number): void {
  const { oracle, subject } = run;
  const lines = diffSnapshots(snapshotTree(oracle.root), snapshotTree(subject.root), [oracle.label, subject.label]);
  if (lines.length === 0) return;
  const where = afterOp < 0 ? 'before any operation' : `after op #${afterOp} (trees last agreed after op #${since})`;
  fail(run, done, afterOp,
    `${subject.label} differs from ${oracle.label} [${run.origin}] ${where}; ${lines.length} differing entries:\n` +
      lines.slice(0, MAX_LINES).map((l) => `  ${l}`).join('\n') +
      (lines.length > MAX_LINES ? `\n  ... ${lines.length - MAX_LINES} more` : ''));
}

/** Run the ops on both sides in lockstep; throws a DifferenceError at the first difference. */
export function runLockstep(run: LockstepRun): LockstepResult {
  const { oracle, subject } = run;
  const source = run.ops;
  const count = 'count' in source ? source.count : source.length;
  const done: Op[] = [];
  const outcomes: string[] = [];
  let agreed = -1;
  compareTrees(run, done, -1, -1);
  for (let i = 0; i < count; i++) {
    const op = 'count' in source ? source.next(i, oracle.root) : source[i]!;
    done.push(op);
    const expected = applyOp(oracle.root, op);
    const actual = applyOp(subject.root, op);
    if (expected !== actual) {
      const states = pathsOf(op)
        .map((p) => `    ${p}: ${oracle.label}=${statLine(oracle.root, p)} | ${subject.label}=${statLine(subject.root, p)}`)
        .join('\n');
      fail(run, done, i,
        `${subject.label} differs from ${oracle.label} [${run.origin}] at op #${i}: ${describeOp(op)}\n` +
          `  ${oracle.label}: ${expected}\n  ${subject.label}: ${actual}\n` +
          `  op: ${JSON.stringify(op)}\n  paths after the op:\n${states}`);
    }
    outcomes.push(expected);
    if ((i + 1) % run.checkpointEvery === 0 || i === count - 1) {
      compareTrees(run, done, i, agreed);
      agreed = i;
    }
  }
  return { ops: done, outcomes };
}
