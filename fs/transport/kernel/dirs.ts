// Open directories of the kernel transport: a listing taken when a directory stream starts (or
// is rewound), served by offset, so entries neither repeat nor vanish while a program reads.
import type { ViewPath } from '../../../src/core/paths.js';

interface OpenDir {
  /** Undefined for a removed directory: its listing is empty. */
  readonly path: ViewPath | undefined;
  names: readonly Buffer[] | undefined;
}

export class DirHandles {
  private readonly dirs = new Map<number, OpenDir>();
  private next = 1;

  open(path: ViewPath | undefined): number {
    while (this.dirs.has(this.next) || this.next === 0) this.next = (this.next + 1) >>> 0;
    const id = this.next;
    this.next = (this.next + 1) >>> 0;
    this.dirs.set(id, { path, names: undefined });
    return id;
  }

  /**
   * The names of directory stream `id`, listed by `list` at offset 0 (a fresh stream or a
   * rewinddir) and kept for later offsets. Undefined for an unknown handle.
   */
  names(id: number, offset: number, list: (path: ViewPath) => readonly string[]): readonly Buffer[] | undefined {
    const d = this.dirs.get(id);
    if (!d) return undefined;
    if (offset === 0 || d.names === undefined) d.names = d.path === undefined ? [] : list(d.path).map((n) => Buffer.from(n));
    return d.names;
  }

  release(id: number): void {
    this.dirs.delete(id);
  }

  get size(): number {
    return this.dirs.size;
  }
}
