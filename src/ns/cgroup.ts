// One cgroup per world (cgroup v1 freezer hierarchy): membership the kernel keeps, and freezing a
// world's processes while a merge moves them. Children inherit the cgroup; moving a process does
// not move its children, so a world is moved pid by pid while frozen.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const FREEZER = '/sys/fs/cgroup/freezer';

export class WorldCgroup {
  constructor(readonly dir: string) {}

  /** The cgroup of world `id`, or undefined where no freezer hierarchy is usable (rootless). */
  static forWorld(id: string, root = FREEZER): WorldCgroup | undefined {
    if (!WorldCgroup.usable(root)) return undefined;
    return new WorldCgroup(join(root, 'worldos', id));
  }

  /** Whether this process can make cgroups in the freezer hierarchy (v1 cannot be delegated: root only). */
  static usable(root = FREEZER): boolean {
    if (!existsSync(join(root, 'cgroup.procs'))) return false;
    try {
      accessSync(root, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  }

  get procsFile(): string { return join(this.dir, 'cgroup.procs'); }

  ensure(): this {
    mkdirSync(this.dir, { recursive: true });
    return this;
  }

  /** Host pids in the cgroup. */
  pids(): number[] {
    if (!existsSync(this.procsFile)) return [];
    return readFileSync(this.procsFile, 'utf8').split('\n').filter(Boolean).map(Number);
  }

  freeze(): void { this.setState('FROZEN'); }
  thaw(): void { this.setState('THAWED'); }

  private setState(state: 'FROZEN' | 'THAWED'): void {
    const f = join(this.dir, 'freezer.state');
    if (!existsSync(f)) return;
    writeFileSync(f, state);
    // FREEZING is transitional: wait until the kernel reports the final state.
    for (let i = 0; i < 200 && readFileSync(f, 'utf8').trim() !== state; i++) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }

  /** Move every process of this cgroup into `to` (frozen first; both thawed after). */
  moveAllTo(to: WorldCgroup): number {
    to.ensure();
    this.freeze();
    to.freeze();
    let moved = 0;
    try {
      for (let round = 0; round < 10; round++) {
        const pids = this.pids();
        if (pids.length === 0) break;
        for (const pid of pids) {
          try {
            writeFileSync(to.procsFile, String(pid));
            moved++;
          } catch { /* exited meanwhile */ }
        }
      }
    } finally {
      to.thaw();
      this.thaw();
    }
    return moved;
  }

  /** Remove the cgroup directory once its last (exiting) member is gone; false if it stays busy. */
  remove(): boolean {
    for (let i = 0; i < 100; i++) {
      try {
        if (existsSync(this.dir)) rmdirSync(this.dir);
        return true;
      } catch {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20); // EBUSY while members exit
      }
    }
    return false;
  }
}
