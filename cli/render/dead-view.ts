// What `ls` says of a view whose daemon died: what happened, who is affected, the one command that fixes it.
import type { ViewUser } from '../../src/worlds/dead-view.js';

export function deadViewLine(world: string, mountpoint: string | undefined, users: readonly ViewUser[]): string {
  const where = mountpoint ? `${mountpoint} answers ENOTCONN` : 'the view its processes started on answers ENOTCONN';
  if (users.length === 0) return `view: its daemon died; ${where}; no process uses it (worldctl mount ${world} or run mounts it again)\n`;
  const pids = users.map((u) => `${u.pid} (${u.use})`).join(', ');
  return `view: its daemon died; ${where}; ${users.length} process(es) use it: ${pids} ` +
    `(worldctl revive ${world} ends those alone and mounts the view again)\n`;
}
