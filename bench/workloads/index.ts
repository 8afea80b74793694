// Every session of the suite, in the order they run and are reported.
import type { Sizes } from '../sizes.js';
import { copyUpSession } from './copy-up.js';
import { dataSession } from './data.js';
import { jobSession } from './job.js';
import { lookupSessions } from './lookup.js';
import { metadataSession } from './metadata.js';
import { readdirSession } from './readdir.js';
import type { Session } from './workload.js';
import { worldsSession, type WorldsSession } from './worlds.js';

export function mountSessions(s: Sizes): Session[] {
  return [...lookupSessions(s), readdirSession(s), copyUpSession(s), dataSession(s), metadataSession(s), jobSession(s)];
}

export function allSessions(s: Sizes): { mounts: Session[]; worlds: WorldsSession } {
  return { mounts: mountSessions(s), worlds: worldsSession(s) };
}

/** Whether a session is selected by --only (by id or group; empty = all). */
export function selected(only: readonly string[], session: { id: string; group: string }): boolean {
  return only.length === 0 || only.includes(session.id) || only.includes(session.group);
}
