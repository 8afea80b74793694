// What a workload is: a session on one fresh mount (caches dropped first), made of phases that
// each measure one or more figures. Sessions are data; the suite runs them on every peer.
import type { FixtureId } from '../fixtures.js';
import type { Finished } from '../proc.js';
import type { Sizes } from '../sizes.js';
import type { View, Writes } from '../peers/peer.js';

export type Unit = 's' | 'KiB' | 'MiB';

export interface FigureDef {
  /** Unique within its session; the global key is `<session>/<key>`. */
  readonly key: string;
  readonly label: string;
  readonly unit: Unit;
}

/** What a phase may do: run commands in child processes (never touch the mount from here). */
export interface PhaseCtx {
  readonly view: View;
  readonly sizes: Sizes;
  /** Wall time of a shell command line. */
  sh(line: string): Promise<number>;
  /** A shell command line's output and wall time. */
  shOut(line: string): Promise<Finished>;
  /** The client (bench/client.ts) in its own process: its JSON figures. */
  client(op: string, ...args: (string | number)[]): Promise<Record<string, number>>;
}

export interface Phase {
  /** Figures this phase yields; all of them fail together if it throws. */
  readonly keys: readonly string[];
  run(ctx: PhaseCtx): Promise<Record<string, number>>;
}

export interface Session {
  readonly id: string;
  readonly group: string;
  readonly title: string;
  readonly fixture: FixtureId;
  /** What it does to lower files (see Writes): decides how ext4 lays them out, and whether to sync. */
  readonly writes: Writes;
  readonly figures: readonly FigureDef[];
  readonly phases: readonly Phase[];
}

/** Quote a path for sh. */
export const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export const fmtCount = (n: number): string => n.toLocaleString('en-US');
