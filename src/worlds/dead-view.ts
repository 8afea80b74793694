// A world's dead view: the FUSE mount of a daemon that died (every access answers ENOTCONN), as
// the host sees it (the recorded mountpoint) or as the world's init still has it as its root (a
// view mounted again after the death does not change the root of processes already running).
// Which of the world's processes use it, read from /proc (src/host/mount-users.ts).
import { readFileSync } from 'node:fs';
import type { ProcessRef } from '../host/process-identity.js';
import { findFuseMount, parseMountinfo } from '../host/mountinfo.js';
import { mountAt, useOf, type DeviceId } from '../host/mount-users.js';
import { readProc } from '../ns/proc.js';
import type { WorldsContext } from './context.js';
import { deadMount, liveDaemon } from './daemon.js';

export interface ViewUser {
  readonly pid: number;
  readonly command: string;
  /** How it uses the dead view: 'root', 'cwd', 'fd N', 'mapped PATH'. */
  readonly use: string;
}

export interface DeadView {
  /** The host mountpoint of the dead mount, if it is still mounted there. */
  readonly mountpoint?: string;
  /** Its devices ("major:minor"): the host's dead mount, the init's stale root. */
  readonly devices: ReadonlySet<DeviceId>;
  /** The world's processes (its init included) whose root, cwd, open or mapped files are on it. */
  readonly users: readonly ViewUser[];
}

/** World `id`'s dead view, if it has one; `init` is its live init, if any. */
export function deadView(ctx: WorldsContext, id: string, init: ProcessRef | undefined): DeadView | undefined {
  const file = ctx.layout.daemonFile(id);
  const devices = new Set<DeviceId>();
  const mountpoint = deadMount(file);
  const dead = mountpoint === undefined ? undefined : findFuseMount(mountpoint);
  if (dead) devices.add(dead.dev);
  const root = init ? rootDevice(init.pid) : undefined;
  if (root !== undefined && !devices.has(root)) {
    const live = liveDaemon(file);
    const serving = live ? findFuseMount(live.mountpoint)?.dev : undefined;
    if (root !== serving) devices.add(root);
  }
  if (devices.size === 0) return undefined;
  const users: ViewUser[] = [];
  for (const pid of ctx.membership.pids(id)) {
    const use = useOf(pid, devices);
    if (use !== undefined) users.push({ pid, command: readProc(pid)?.command ?? '?', use });
  }
  return { ...(mountpoint !== undefined ? { mountpoint } : {}), devices, users };
}

/** The users that are the world's programs (`listed`: its ps), not plumbing (launchers, shims) ended with them. */
export function programsAmong(users: readonly ViewUser[], listed: readonly { pid: number }[]): ViewUser[] {
  const pids = new Set(listed.map((p) => p.pid));
  return users.filter((u) => pids.has(u.pid));
}

/** The device of a process's root filesystem, from its own mountinfo. */
function rootDevice(pid: number): DeviceId | undefined {
  try {
    return mountAt(parseMountinfo(readFileSync(`/proc/${pid}/mountinfo`, 'utf8')), '/')?.dev;
  } catch {
    return undefined;
  }
}
