// Which processes use a mount: their root, working directory or an open file lies on its
// filesystem. Read from /proc only (each process's own mountinfo, fdinfo's mnt_id, the cwd link):
// nothing here stats a path, so a hung or dead FUSE mount anywhere on the machine cannot block it.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { parseMountinfo, type MountEntry } from './mountinfo.js';

export interface MountUser {
  readonly pid: number;
  readonly command: string;
  /** What of it lies on the mount. */
  readonly uses: 'root' | 'cwd' | 'open file';
}

/** Processes whose root, cwd or an open file is on the filesystem `dev` ("major:minor", from mountinfo). */
export function mountUsers(dev: string, exclude: ReadonlySet<number> = new Set([process.pid])): MountUser[] {
  const out: MountUser[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || exclude.has(Number(name))) continue;
    const uses = usesOf(Number(name), dev);
    if (uses) out.push({ pid: Number(name), command: commandOf(Number(name)), uses });
  }
  return out;
}

function usesOf(pid: number, dev: string): MountUser['uses'] | undefined {
  let mounts: MountEntry[];
  try {
    mounts = parseMountinfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
  } catch {
    return undefined; // gone, or a kernel thread
  }
  if (!mounts.some((m) => m.dev === dev)) return undefined; // not even in its namespace
  // Its root is the last mount at '/' of its own view of the mount table.
  if ([...mounts].reverse().find((m) => m.mountpoint === '/')?.dev === dev) return 'root';
  try {
    if (covering(mounts, readlinkSync(`/proc/${pid}/cwd`))?.dev === dev) return 'cwd';
  } catch { /* gone */ }
  const ids = new Set(mounts.filter((m) => m.dev === dev).map((m) => m.id));
  try {
    for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
      const m = /^mnt_id:\s*(\d+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'));
      if (m && ids.has(Number(m[1]))) return 'open file';
    }
  } catch { /* gone */ }
  return undefined;
}

/** The mount a path lies on: the newest one at the longest mountpoint prefix. */
function covering(mounts: readonly MountEntry[], path: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of mounts) {
    const inside = m.mountpoint === '/' || path === m.mountpoint || path.startsWith(m.mountpoint + '/');
    if (inside && (!best || m.mountpoint.length >= best.mountpoint.length)) best = m;
  }
  return best;
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '?';
  }
}
