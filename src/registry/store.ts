// The registry on disk: <home>/worlds.xml, changed only under <home>/worlds.lock and only by
// atomic replacement. A corrupt file is refused, never rewritten. I/O lives here, decisions in codec/model.

import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorldError, isWorldError } from '../core/world-error.js';
import { removeStaleTemps, writeFileAtomic } from './atomic-file.js';
import { decodeRegistry, encodeRegistry } from './codec.js';
import { errnoOf, fromIo } from './io-error.js';
import { acquireLock, type HeldLock } from './lock-file.js';
import type { Registry } from './model.js';

export interface RegistryStoreOptions {
  readonly lockTimeoutMs?: number; // how long update() waits for the lock; default 10 000
}

const INIT_HINT = 'run `worldctl init`';

/** One store home. Every method is synchronous: worldctl does one thing at a time. */
export class RegistryStore {
  readonly file: string;
  readonly lockFile: string;
  readonly lockTimeoutMs: number;

  constructor(readonly home: string, options: RegistryStoreOptions = {}) {
    this.file = join(home, 'worlds.xml');
    this.lockFile = join(home, 'worlds.lock');
    this.lockTimeoutMs = options.lockTimeoutMs ?? 10_000;
  }

  /**
   * The registry as last written, without locking (writes are atomic renames, so this is always a
   * complete version). Throws NOT_INITIALISED, CORRUPT_REGISTRY (naming the file and line) or IO.
   */
  read(): Registry {
    let bytes: Buffer;
    try {
      bytes = readFileSync(this.file);
    } catch (e) {
      if (errnoOf(e) === 'ENOENT') throw this.notInitialised(e);
      return fromIo(e, 'read the registry', this.file);
    }
    try {
      return decodeRegistry(decodeUtf8(bytes));
    } catch (e) {
      if (!isWorldError(e, 'CORRUPT_REGISTRY')) throw e;
      throw new WorldError('CORRUPT_REGISTRY', `${this.file}: ${e.message}`, { cause: e, hint: e.hint });
    }
  }

  /**
   * Under the lock: read, apply `fn`, write the registry it returns (skipped when it returns the
   * same object), release. `fn` must be pure: it may run against a newer registry than a previous
   * read() showed. Errors thrown by `fn` propagate and leave the file untouched. Throws what read()
   * throws, plus LOCKED, READ_ONLY and NO_SPACE.
   */
  update<T>(fn: (reg: Registry) => { registry: Registry; result: T }): T {
    return this.locked(() => {
      const current = this.read();
      const { registry, result } = fn(current);
      if (registry !== current) this.write(registry);
      return result;
    });
  }

  /** Create the home and write the first registry (for `worldctl init`). Throws EXISTS if there is one. */
  create(initial: Registry): void {
    try {
      mkdirSync(this.home, { recursive: true });
    } catch (e) {
      fromIo(e, 'create the store home', this.home);
    }
    this.locked(() => {
      try {
        this.read();
      } catch (e) {
        if (!isWorldError(e, 'NOT_INITIALISED')) throw e;
        this.write(initial);
        return;
      }
      throw new WorldError('EXISTS', `${this.file} already exists; expected no registry: this home is already initialised`);
    });
  }

  private locked<T>(fn: () => T): T {
    let lock: HeldLock;
    try {
      lock = acquireLock(this.lockFile, { timeoutMs: this.lockTimeoutMs });
    } catch (e) {
      if (isWorldError(e, 'IO') && errnoOf(e.cause) === 'ENOENT') throw this.notInitialised(e);
      throw e;
    }
    try {
      return fn();
    } finally {
      lock.release();
    }
  }

  private write(reg: Registry): void {
    const text = encodeRegistry(reg);
    try {
      decodeRegistry(text); // never write what we would refuse to read
    } catch (e) {
      throw new Error(`bug: refusing to write an inconsistent registry: ${(e as Error).message}`, { cause: e });
    }
    try {
      removeStaleTemps(this.file);
    } catch (e) {
      fromIo(e, 'list the store home', this.home);
    }
    writeFileAtomic(this.file, text);
  }

  private notInitialised(cause: unknown): WorldError {
    return new WorldError('NOT_INITIALISED', `expected a registry at ${this.file}, found none; ${INIT_HINT} first`, {
      cause, hint: INIT_HINT,
    });
  }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Decode strictly: invalid UTF-8 is corruption, not something to replace with U+FFFD. */
function decodeUtf8(bytes: Buffer): string {
  try {
    return UTF8.decode(bytes);
  } catch (e) {
    const lossy = Buffer.from(bytes.toString('utf8'), 'utf8');
    let at = 0;
    while (at < bytes.length && bytes[at] === lossy[at]) at++;
    const line = bytes.subarray(0, at).toString('latin1').split('\n').length;
    throw new WorldError('CORRUPT_REGISTRY', `registry is corrupt: line ${line}: bytes that are not UTF-8 (at byte ${at})`, {
      cause: e, hint: 'fix the named line by hand or restore a backup; worldctl does not rewrite a corrupt registry',
    });
  }
}
