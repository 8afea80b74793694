// One cgroup per world: membership the kernel keeps, and freezing a world's processes while a merge
// moves them. Children inherit the cgroup; moving a process does not move its children, so a world
// is moved pid by pid while frozen. Two hierarchies can hold a world's cgroup:
//   v2, the unified hierarchy (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid machine):
//       cgroup.freeze and cgroup.events, no controller needed. Preferred: a launcher can be born in
//       the cgroup (clone3 with CLONE_INTO_CGROUP, dist/worldrun) instead of moving into it, and
//       moving a process takes the kernel's global cgroup_threadgroup_rwsem for writing, which waits
//       for an RCU grace period: 7-30 ms measured here on every `worldctl run` (docs/processes.md).
//   v1, the freezer controller's own hierarchy (freezer.state), where no v2 hierarchy is writable.
import { accessSync, constants, existsSync, mkdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export type CgroupVersion = 1 | 2;

/** A cgroup hierarchy worlds' cgroups can live in: they go under `<root>/worldos`. */
export class CgroupHierarchy {
  constructor(readonly version: CgroupVersion, readonly root: string) {}

  /** Where the worlds' cgroups are. */
  get worldsDir(): string { return join(this.root, 'worldos'); }

  /** The cgroup named `name` (`<store key>-<world id>`); nothing is made. */
  cgroup(name: string): WorldCgroup { return new WorldCgroup(this, join(this.worldsDir, name)); }

  /** Whether this process can make cgroups here (v1 cannot be delegated: root only). */
  usable(): boolean {
    if (!existsSync(join(this.root, 'cgroup.procs'))) return false;
    try {
      accessSync(this.root, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  }
}

/** The v2 mount point and the v1 freezer's, from /proc/self/mounts text (the first of each). */
export function parseCgroupMounts(mounts: string): { v2?: string; v1Freezer?: string } {
  const out: { v2?: string; v1Freezer?: string } = {};
  for (const line of mounts.split('\n')) {
    const [, at, type, opts] = line.split(' ');
    if (at === undefined || opts === undefined) continue;
    const mountpoint = at.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
    if (type === 'cgroup2') out.v2 ??= mountpoint;
    else if (type === 'cgroup' && opts.split(',').includes('freezer')) out.v1Freezer ??= mountpoint;
  }
  return out;
}

/**
 * The hierarchies this process can keep worlds in, preferred first: v2, then the v1 freezer.
 * WORLDOS_CGROUP=v1|v2 keeps only that one (tests, and a researcher comparing them).
 */
export function cgroupHierarchies(env: NodeJS.ProcessEnv = process.env, mounts?: string): CgroupHierarchy[] {
  const want = env.WORLDOS_CGROUP;
  if (want !== undefined && want !== 'v1' && want !== 'v2') throw new Error(`WORLDOS_CGROUP=${want}: expected v1 or v2`);
  let text = mounts;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/mounts', 'utf8');
    } catch {
      return [];
    }
  }
  const m = parseCgroupMounts(text);
  const all = [
    ...(m.v2 !== undefined && want !== 'v1' ? [new CgroupHierarchy(2, m.v2)] : []),
    ...(m.v1Freezer !== undefined && want !== 'v2' ? [new CgroupHierarchy(1, m.v1Freezer)] : []),
  ];
  return all.filter((h) => h.usable());
}

const sleepMs = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

export class WorldCgroup {
  constructor(readonly hierarchy: CgroupHierarchy, readonly dir: string) {}

  get procsFile(): string { return join(this.dir, 'cgroup.procs'); }

  exists(): boolean { return existsSync(this.dir); }

  ensure(): this {
    mkdirSync(this.dir, { recursive: true });
    return this;
  }

  /** Host pids in the cgroup. */
  pids(): number[] {
    if (!existsSync(this.procsFile)) return [];
    return readFileSync(this.procsFile, 'utf8').split('\n').filter(Boolean).map(Number);
  }

  freeze(): void { this.setFrozen(true); }
  thaw(): void { this.setFrozen(false); }

  /** Freeze or thaw, and wait (bounded) until the kernel says it is done: freezing is not immediate. */
  private setFrozen(frozen: boolean): void {
    const v2 = this.hierarchy.version === 2;
    const control = join(this.dir, v2 ? 'cgroup.freeze' : 'freezer.state');
    if (!existsSync(control)) return;
    writeFileSync(control, v2 ? (frozen ? '1' : '0') : (frozen ? 'FROZEN' : 'THAWED'));
    const done = v2
      ? () => readFileSync(join(this.dir, 'cgroup.events'), 'utf8').includes(`frozen ${frozen ? 1 : 0}\n`)
      : () => readFileSync(control, 'utf8').trim() === (frozen ? 'FROZEN' : 'THAWED');
    for (let i = 0; i < 200 && !done(); i++) sleepMs(10);
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
        sleepMs(20); // EBUSY while members exit
      }
    }
    return false;
  }
}
