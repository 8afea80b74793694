// Run tickets: what lets dist/worldrun (src/ns/worldrun.c) run a command in a world without Node.
// After `worldctl run` started a command in a world itself (its init up, its view live, fenced),
// it writes <home>/tickets/<hex of the world's name>: the registry file it read (device, inode,
// mtime in ns, size), the world's id, its init and daemon (pid and start time), the device of the
// init's root (the view), the daemon's fence directory and the world's cgroup. worldrun acts on a
// ticket only while all of that still holds, and hands anything else to Node; see worldrun.c.
// Root only: rootless worlds enter a user namespace that worldrun does not (every run takes Node).
import { mkdirSync, rmSync, statSync, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import type { ProcessRef } from '../host/process-identity.js';
import { writeFileAtomic } from '../registry/atomic-file.js';

export const TICKET_HEADER = 'worldos-run-ticket 1';

/** What a ticket vouches for (see the header); `fence` and `cgroup` are absent where there is none. */
export interface RunTicket {
  /** stat of the registry file taken before Node read it (a newer file then fails worldrun's check). */
  readonly registry: BigIntStats;
  readonly id: string;
  readonly init: ProcessRef;
  readonly daemon: ProcessRef;
  /** st_dev of the init's root: the view the daemon serves. */
  readonly rootDevice: bigint;
  readonly fence?: string;
  readonly cgroup?: string;
}

/** The ticket file of world `name` in the store at `home`. */
export function ticketFile(home: string, name: string): string {
  return join(home, 'tickets', Buffer.from(name, 'utf8').toString('hex'));
}

/** The ticket's text; undefined when a value cannot be written on one line (worldrun then never acts). */
export function formatTicket(t: RunTicket): string | undefined {
  const r = t.registry;
  const values = [
    ['registry', `${r.dev} ${r.ino} ${r.mtimeNs} ${r.size}`],
    ['id', t.id],
    ['init', `${t.init.pid} ${t.init.start}`],
    ['daemon', `${t.daemon.pid} ${t.daemon.start}`],
    ['rootdev', `${t.rootDevice}`],
    ['fence', t.fence ?? '-'],
    ['cgroup', t.cgroup ?? '-'],
  ];
  if (values.some(([, v]) => v!.includes('\n') || v === '')) return undefined;
  return `${TICKET_HEADER}\n${values.map(([k, v]) => `${k} ${v}`).join('\n')}\n`;
}

/**
 * Write world `name`'s ticket (best effort: without one, every run takes Node). Replaced by a
 * rename, so worldrun reads a whole ticket or none; not fsynced: a ticket a crash tore fails
 * worldrun's parse, and one lost only costs the next run Node's start.
 */
export function writeRunTicket(home: string, name: string, t: RunTicket): void {
  const text = formatTicket(t);
  const file = ticketFile(home, name);
  if (text === undefined) return dropRunTicket(home, name);
  try {
    mkdirSync(join(home, 'tickets'), { recursive: true, mode: 0o700 });
    writeFileAtomic(file, text, 0o600, { durable: false });
  } catch { /* no ticket: the next run takes Node */ }
}

/** Remove world `name`'s ticket (a deleted or merged world's: worldrun would refuse it anyway). */
export function dropRunTicket(home: string, name: string): void {
  rmSync(ticketFile(home, name), { force: true });
}

/** stat of the registry as a ticket records it, taken before the registry is read. */
export function registryStat(file: string): BigIntStats | undefined {
  try {
    return statSync(file, { bigint: true });
  } catch {
    return undefined;
  }
}

/** st_dev of a process's root, or undefined when it cannot be read (a dead view: ENOTCONN). */
export function rootDeviceOf(pid: number): bigint | undefined {
  try {
    return statSync(`/proc/${pid}/root/`, { bigint: true }).dev;
  } catch {
    return undefined;
  }
}
