// Open files are served through a handle table, never by re-resolving their path: a file can be
// renamed or unlinked while it is open. Handle 0 is never used (fuse-native reads it as "none").
import { closeSync } from 'node:fs';

export interface OpenFile {
  readonly fd: number;
  /** The view path at open time (for logs only: the file may have moved since). */
  readonly path: string;
  readonly writable: boolean;
  /** Where the file's metadata lives when `fd` is the lower data of a metacopy file. */
  readonly metaPath?: string;
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
  }

  get size(): number {
    return this.files.size;
  }

  /** Close every handle (at unmount). */
  closeAll(): void {
    for (const id of [...this.files.keys()]) this.release(id);
  }
}
