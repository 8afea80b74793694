// Open files are served through a handle table, never by re-resolving their path: a file can be
// renamed or unlinked while it is open. Handle 0 is never used (fuse-native reads it as "none").
import { closeSync, type BigIntStats } from 'node:fs';

export interface OpenFile {
  /**
   * The host descriptor. Replaced only when a read-only file whose every name is gone must change
   * (fchmod, say) and is not the top layer's own: it then gets a private, nameless copy (handle-attrs.ts).
   */
  fd: number;
  /** The view path at open time (for logs only: the file may have moved since). */
  readonly path: string;
  readonly writable: boolean;
  /** The layer of the object's highest copy when it was opened (0: the top; a write open copied it there). */
  readonly layer: number;
  /** An O_PATH descriptor of the file's metadata when `fd` is the lower data of a metacopy file. */
  metaFd?: number;
  /** st_ino as the view reported it at open: the file keeps it while open, named or not. */
  readonly ino: number;
  /**
   * Whether `fd` is a file of the top layer itself (its host link count is the view's), not a lower
   * file or a metacopy file's lower data, which the view must never change.
   */
  own: boolean;
  /** "dev:ino" of `fd`'s file, once known (handle-attrs.ts hostKey); cleared when `fd` is replaced. */
  hostKey?: string;
  /** fstat of `fd` when it was opened (spares the open's other readers a second one). */
  readonly openStat?: BigIntStats;
}

export class HandleTable {
  private readonly files = new Map<number, OpenFile>();
  private next = 1;

  add(file: OpenFile): number {
    while (this.files.has(this.next) || this.next === 0) this.next = (this.next + 1) >>> 0;
    const id = this.next;
    this.next = (this.next + 1) >>> 0;
    this.files.set(id, file);
    return id;
  }

  /** The open file for `id`; undefined for an unknown handle (the caller answers EBADF). */
  get(id: number): OpenFile | undefined {
    return this.files.get(id);
  }

  /** Close and forget a handle. */
  release(id: number): void {
    const f = this.files.get(id);
    if (!f) return;
    this.files.delete(id);
    closeSync(f.fd);
    if (f.metaFd !== undefined) closeSync(f.metaFd);
  }

  get size(): number {
    return this.files.size;
  }

  /** Close every handle (at unmount). */
  closeAll(): void {
    for (const id of [...this.files.keys()]) this.release(id);
  }
}
