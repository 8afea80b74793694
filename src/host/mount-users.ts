// Which processes use a filesystem: their root, working directory, open files or mapped files on it.
// Read from /proc alone (mountinfo, fdinfo's mnt_id, maps), never by touching the files: the
// filesystem asked about is typically a FUSE mount whose daemon died or hangs, where any access fails.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { parseMountinfo, type MountEntry } from './mountinfo.js';

/** A filesystem's device, "major:minor" in decimal as mountinfo writes it. */
export type DeviceId = string;

export interface MountUser {
  readonly pid: number;
  readonly command: string;
  /** What of it lies on the filesystem: 'root', 'cwd', 'fd N' or 'mapped PATH' (useOf). */
  readonly uses: string;
}

/** Processes whose root, cwd, an open or a mapped file is on the filesystem `dev`. */
export function mountUsers(dev: DeviceId, exclude: ReadonlySet<number> = new Set([process.pid])): MountUser[] {
  const devices = new Set([dev]);
  const out: MountUser[] = [];
  for (const name of listDir('/proc')) {
    if (!/^\d+$/.test(name) || exclude.has(Number(name))) continue;
    const uses = useOf(Number(name), devices);
    if (uses) out.push({ pid: Number(name), command: commandOf(Number(name)), uses });
  }
  return out;
}

/**
 * How process `pid` uses one of `devices`: 'root', 'cwd', 'fd N' or 'mapped PATH'; undefined when it
 * uses none of them (or is gone). Its mounts are read in its own mount namespace, relative to its root.
 */
export function useOf(pid: number, devices: ReadonlySet<DeviceId>): string | undefined {
  let mounts: MountEntry[];
  try {
    mounts = parseMountinfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8'));
  } catch {
    return undefined;
  }
  // Not in its mount namespace: nothing of it is there (checked first, so that the maps of every
  // process on the machine are not read: that takes a lock a fault on a hung mount can hold).
  if (!mounts.some((m) => devices.has(m.dev))) return undefined;
  const root = mountAt(mounts, '/');
  if (root && devices.has(root.dev)) return 'root';
  const cwd = linkOf(`/proc/${pid}/cwd`);
  const cwdMount = cwd === undefined ? undefined : mountAt(mounts, cwd);
  if (cwdMount && devices.has(cwdMount.dev)) return 'cwd';
  const byId = new Map(mounts.map((m) => [m.id, m]));
  for (const fd of listDir(`/proc/${pid}/fdinfo`)) {
    const id = mntIdOf(`/proc/${pid}/fdinfo/${fd}`);
    const m = id === undefined ? undefined : byId.get(id);
    if (m && devices.has(m.dev)) return `fd ${fd}`;
  }
  const mapped = mappedFrom(pid, devices);
  return mapped === undefined ? undefined : `mapped ${mapped}`;
}

/** The mount a path (relative to the process's root) lies on: the last mounted at its longest prefix. */
export function mountAt(mounts: readonly MountEntry[], path: string): MountEntry | undefined {
  let best: MountEntry | undefined;
  for (const m of mounts) {
    const mp = m.mountpoint;
    const under = mp === '/' || path === mp || path.startsWith(mp + '/');
    if (under && (!best || mp.length >= best.mountpoint.length)) best = m;
  }
  return best;
}

/** The first file mapped from one of `devices` (maps gives devices in hex, "00:2f"). */
function mappedFrom(pid: number, devices: ReadonlySet<DeviceId>): string | undefined {
  let maps: string;
  try {
    maps = readFileSync(`/proc/${pid}/maps`, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of maps.split('\n')) {
    const f = line.split(/\s+/);
    const dev = f[3];
    if (!dev || dev === '00:00') continue;
    const [maj, min] = dev.split(':');
    if (devices.has(`${parseInt(maj!, 16)}:${parseInt(min!, 16)}`)) return f.slice(5).join(' ') || '(anonymous)';
  }
  return undefined;
}

function mntIdOf(fdinfo: string): number | undefined {
  try {
    const m = /^mnt_id:\s*(\d+)/m.exec(readFileSync(fdinfo, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

function linkOf(path: string): string | undefined {
  try { return readlinkSync(path); } catch { return undefined; }
}

function listDir(path: string): string[] {
  try { return readdirSync(path); } catch { return []; }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
  } catch {
    return '?';
  }
}
