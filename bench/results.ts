// The result document of one run (written as JSON; the Markdown, table and chart are views of it).
import type { Machine } from './machine.js';
import type { PeerId } from './options.js';
import type { Sizes } from './sizes.js';
import type { PairFigure } from './pairs.js';
import type { FigureSummary, Scaling } from './stats.js';

export interface PeerStatus {
  readonly id: PeerId;
  readonly label: string;
  readonly kind: 'floor' | 'kernel' | 'fuse';
  /** Why it did not run, when it did not. */
  readonly unavailable?: string;
  readonly description: string;
}

export interface ResultDoc {
  readonly format: 'worldos-bench/1';
  readonly date: string;
  readonly mode: 'quick' | 'full';
  readonly machine: Machine;
  readonly options: {
    readonly runs: number; readonly only: readonly string[]; readonly worldfsOpts: string; readonly tmpdir: string;
    readonly timeoutSec: number; readonly sessionBudgetSec: number; readonly aptTimeoutSec?: number;
  };
  readonly sizes: Sizes;
  readonly peers: readonly PeerStatus[];
  readonly figures: readonly FigureSummary[];
  /** Walk and negative-lookup cost against the number of layers. */
  readonly depth: readonly Scaling[];
  /** worldctl merge time against the number of changed files. */
  readonly merge: readonly Scaling[];
  /** Everyday commands and apt-get in a world over / against the host / an overlayfs chroot (issue 11). */
  readonly world?: WorldFigures;
  readonly durationSec: number;
  /** Fixture building time (not part of any figure). */
  readonly setupSec: number;
}

export interface WorldFigures {
  readonly figures: readonly PairFigure[];
  /** The checkout that served the worlds (`git rev-parse --short HEAD`, "(modified)" when src/fs/cli differ). */
  readonly commit?: string;
  /** The command line of the world's worldfs daemon (its options). */
  readonly daemon?: string;
  /** Ways the host was changed by a world or the chroot (apt): each one fails the run. */
  readonly alarms: readonly string[];
}
