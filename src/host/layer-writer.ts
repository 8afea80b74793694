// The only code that writes layer bookkeeping (whiteouts, markers) into the top layer.
// Every replacement is made in the work directory first and renamed into place, so a crash
// leaves either the old entry or the new one.
import { mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from './host-fs.js';
import type { LayerOp } from '../core/whiteout/format.js';
import { host, hostCode, fromHost } from './errors.js';
import { mknod } from './mknod.js';
import { removeXattr, setXattr } from './xattr.js';

/** Applies LayerOps to the top layer and hands out temporary names in its work directory. */
export class LayerWriter {
  private counter = 0;
  constructor(readonly top: string, readonly work: string) {}

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
      this.applyOne(op, target);
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
    }
  }

  /** Make a directory in the work area (for building an object before renaming it into place). */
  tempDir(mode = 0o700): string {
    const tmp = this.tempPath();
    host(() => mkdirSync(tmp, { mode }));
    return tmp;
  }
}
