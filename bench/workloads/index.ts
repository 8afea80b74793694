// Every session of the suite, in the order they run and are reported.
import type { Sizes } from '../sizes.js';
import { copyUpSession } from './copy-up.js';
import { dataSession } from './data.js';
import { jobSession } from './job.js';
import { lookupSessions } from './lookup.js';
import { metadataSession } from './metadata.js';
import { readdirSession } from './readdir.js';
import { aptSession, inWorldSession, type AptSession, type InWorldSession } from './in-world.js';
import type { Session } from './workload.js';
import { worldsSession, type WorldsSession } from './worlds.js';

export function mountSessions(s: Sizes): Session[] {
  return [...lookupSessions(s), readdirSession(s), copyUpSession(s), dataSession(s), metadataSession(s), jobSession(s)];
}

export interface AllSessions {
  readonly mounts: Session[];
  readonly worlds: WorldsSession;
  /** Everyday commands, host against a world over / (group in-world). */
  readonly inWorld: InWorldSession;
  /** apt-get install, a world against an overlayfs chroot (group in-world). */
  readonly apt: AptSession;
}

export function allSessions(s: Sizes): AllSessions {
  return { mounts: mountSessions(s), worlds: worldsSession(s), inWorld: inWorldSession(s.inWorld), apt: aptSession() };
}

/** Whether a session is selected by --only (by id or group; empty = all). */
export function selected(only: readonly string[], session: { id: string; group: string }): boolean {
  return only.length === 0 || only.includes(session.id) || only.includes(session.group);
}
