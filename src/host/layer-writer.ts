// The only code that writes layer bookkeeping (whiteouts, markers) into the top layer, and the one
// place every write to the top layer is reported (to the daemon's top memo: src/core/top-memo.ts).
// Every replacement is made in the work directory first and renamed into place, so a crash
// leaves either the old entry or the new one.
import { mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from './host-fs.js';
import type { LayerOp } from '../core/whiteout/format.js';
import { host, hostCode, fromHost } from './errors.js';
import { mknod } from './mknod.js';
import { removeXattr, setXattr } from './xattr.js';

/**
 * Told of each write to the top layer: its layer-relative path, and whether what was there or is
 * there now may be a directory (`deep`: everything below it may have changed too). See TopMemo.changed.
 */
export type TopWrites = (rel: string, deep: boolean) => void;

/** Applies LayerOps to the top layer and hands out temporary names in its work directory. */
export class LayerWriter {
  private counter = 0;
  private readonly topSlash: string;
  /**
   * `wrote` hears of every write this writer makes to the top layer, and of those its callers make
   * themselves and report (`changed`, `writing`). Default: nobody listens.
   */
  constructor(readonly top: string, readonly work: string, private readonly wrote?: TopWrites) {
    this.topSlash = top.endsWith('/') ? top : top + '/';
  }

  /**
   * Report that host path `path` was written (created, removed, renamed, replaced; `deep` false:
   * only its xattrs). Paths outside the top layer (the work directory) are no one's concern.
   */
  changed(path: string, deep = true): void {
    if (this.wrote === undefined) return;
    if (path === this.top) this.wrote('', deep);
    else if (path.startsWith(this.topSlash)) this.wrote(path.slice(this.topSlash.length), deep);
  }

  /** Run `write`, which writes the host paths `paths`, and report them, whether it succeeded or not. */
  writing<T>(paths: readonly string[], write: () => T): T {
    try {
      return write();
    } finally {
      for (const p of paths) this.changed(p);
    }
  }

  /** Create the work directory and empty it: leftovers are interrupted copy-ups, never user data. */
  prepare(): void {
    mkdirSync(this.work, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.work)) rmSync(this.work + '/' + name, { recursive: true, force: true });
  }

  /** A fresh path in the work directory (same filesystem as the top layer, so rename is atomic). */
  tempPath(): string {
    return `${this.work}/tmp.${process.pid}.${++this.counter}`;
  }

  /** The host path of a top-layer relative path. */
  upper(rel: string): string {
    return rel === '' ? this.top : this.top + '/' + rel;
  }

  /** Perform `ops`; their paths are relative to the top layer, or to `base` when given. */
  apply(ops: readonly LayerOp[], base?: string): void {
    for (const op of ops) {
      const target = base === undefined ? this.upper(op.rel) : op.rel === '' ? base : base + '/' + op.rel;
      try {
        this.applyOne(op, target);
      } finally {
        this.changed(target, op.op !== 'set-xattr' && op.op !== 'remove-xattr');
      }
    }
  }

  private applyOne(op: LayerOp, target: string): void {
    switch (op.op) {
      case 'mknod-whiteout': {
        const tmp = this.tempPath();
        mknod(tmp, 'c', 0o000, 0, 0);
        this.renameInto(tmp, target);
        return;
      }
      case 'create-marker': {
        const tmp = this.tempPath();
        host(() => writeFileSync(tmp, '', { mode: 0o444, flag: 'wx' }));
        this.renameInto(tmp, target);
        return;
      }
      case 'symlink': {
        const tmp = this.tempPath();
        host(() => symlinkSync(op.target, tmp));
        this.renameInto(tmp, target);
        return;
      }
      case 'set-xattr':
        setXattr(target, op.name, op.value);
        return;
      case 'remove-xattr':
        try {
          removeXattr(target, op.name);
        } catch (e) {
          if (hostCode(e) !== 'ENODATA') throw e;
        }
        return;
      case 'remove':
        try {
          unlinkSync(target);
        } catch (e) {
          if (hostCode(e) !== 'ENOENT') fromHost(e);
        }
        return;
    }
  }

  /** rename(2) a prepared temp entry over `target`, removing the temp entry if that fails. */
  renameInto(tmp: string, target: string): void {
    try {
      renameSync(tmp, target);
    } catch (e) {
      rmSync(tmp, { recursive: true, force: true });
      fromHost(e);
    } finally {
      this.changed(target);
    }
  }

  /** Make a directory in the work area (for building an object before renaming it into place). */
  tempDir(mode = 0o700): string {
    const tmp = this.tempPath();
    host(() => mkdirSync(tmp, { mode }));
    return tmp;
  }
}
