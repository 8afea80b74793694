// Fresh, numbered working directories for single runs, removed afterwards. A mount left below one
// is lazily unmounted first: never delete through a view.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { unmountBelow } from './cleanup.js';

export class ScratchDirs {
  private next = 0;
  constructor(private readonly root: string) {}

  fresh(): string {
    const dir = join(this.root, String(this.next++));
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  remove(dir: string): void {
    unmountBelow(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}
