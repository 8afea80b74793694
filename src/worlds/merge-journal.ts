// The intent journal of a merge: everything needed to finish it after a crash, written atomically
// before each phase. <home>/journal/merge.json, with step progress in merge.progress.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { BystanderPins } from '../core/merge/bystanders.js';
import type { MergeStep } from '../core/merge/plan.js';
import { WorldError } from '../core/world-error.js';
import type { ProcessRef } from '../host/process-identity.js';
import { removeStaleTemps, writeFileAtomic } from '../registry/atomic-file.js';

export interface MergeJournal {
  readonly op: 'merge';
  readonly owner: ProcessRef;
  readonly child: string;
  readonly into: string;
  /** Merged worlds in fold order: lowest priority first, the child last. */
  readonly fold: readonly string[];
  /** Paths where the ancestor's version is kept (conflicts decided for the parent). */
  readonly skip: readonly string[];
  /**
   * Bystanders' running views: their daemons switch to the new stack at the end (one that died is
   * mounted again at its path). Named for what older versions did: stop them and mount again.
   */
  readonly remount: readonly { readonly id: string; readonly mountpoint: string }[];
  /** Merged worlds whose mounted views become aliases of the ancestor's (daemon kept, re-pointed). */
  readonly aliases: readonly string[];
  /** New parent lists of the merged worlds' other children. */
  readonly reparent: readonly { readonly id: string; readonly parents: readonly string[] }[];
  /** What each bystander keeps, descendants first (src/core/merge/bystanders.ts); absent in older journals. */
  readonly pins?: readonly BystanderPins[];
  /** The bystanders kept it: made before phase 0, so a resumed merge never reads a changed layer for them. */
  readonly pinned?: boolean;
  /** Phase k folds fold[k >> 1], pass (k & 1) + 1; fold.length * 2 means all layers are folded. */
  readonly phase: number;
  /** The current phase's plan, once made. */
  readonly steps?: readonly MergeStep[];
}

export class JournalFiles {
  constructor(private readonly dir: string) {}
  get file(): string { return join(this.dir, 'merge.json'); }
  get progress(): string { return join(this.dir, 'merge.progress'); }
  get trash(): string { return join(this.dir, 'trash'); }

  read(): MergeJournal | undefined {
    if (!existsSync(this.file)) return undefined;
    try {
      return JSON.parse(readFileSync(this.file, 'utf8')) as MergeJournal;
    } catch (e) {
      throw new WorldError('CORRUPT_REGISTRY', `the merge journal ${this.file} is unreadable: ${(e as Error).message}`, { cause: e });
    }
  }

  /** Write the journal atomically (progress lines carry their phase: nothing to reset). */
  write(j: MergeJournal): void {
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(this.file, JSON.stringify(j) + '\n');
  }

  /** Remove the journal, its progress, its trash and any temp file a killed writer left. */
  remove(): void {
    rmSync(this.trash, { recursive: true, force: true });
    rmSync(this.progress, { force: true });
    rmSync(this.file, { force: true });
    removeStaleTemps(this.file);
  }
}
