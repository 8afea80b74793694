// The store's own directories and files outside a world's directory — mountpoints under <home>/mnt
// and daemon stack files under <home>/stacks — removed when nothing uses them any more, so that
// deleted and merged worlds leave nothing behind (gc.ts finds what a crash left).
import { rmdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { readMounts } from '../host/mountinfo.js';
import { removeStaleTemps } from '../registry/atomic-file.js';
import type { StoreLayout } from './layout.js';

/** Whether `dir` is one of the store's mount directories (<home>/mnt/<name>), the only ones we remove. */
export function isStoreMountDir(layout: StoreLayout, dir: string): boolean {
  return dirname(dir) === join(layout.home, 'mnt');
}

/**
 * Remove a mount directory the store made, if it is one, nothing is mounted there and it is empty
 * (rmdir: never a file). Returns whether it was removed.
 */
export function removeMountDir(layout: StoreLayout, dir: string, mounts = readMounts()): boolean {
  if (!isStoreMountDir(layout, dir) || mounts.some((m) => m.mountpoint === dir)) return false;
  try {
    rmdirSync(dir);
    return true;
  } catch {
    return false; // gone already, not empty, or busy: it stays, and says why to gc
  }
}

/** A world's daemon stack file, its acknowledgement and any temp file a killed writer left. */
export function removeStackFiles(layout: StoreLayout, id: string): void {
  const f = layout.stackFile(id);
  rmSync(f, { force: true });
  rmSync(f + '.ok', { force: true });
  try { removeStaleTemps(f); } catch { /* no stacks directory */ }
}

/** The stack files at `file` (an alias daemon's, from its command line) if it is one of the store's. */
export function removeStackFileAt(layout: StoreLayout, file: string): void {
  const m = /^(.+)\.json$/.exec(basename(file));
  if (m && dirname(file) === join(layout.home, 'stacks') && layout.stackFile(m[1]!) === file) removeStackFiles(layout, m[1]!);
}

/** What a world leaves outside its directory once no daemon serves it: its mount directory and stack files. */
export function removeWorldLeftovers(layout: StoreLayout, id: string, mountpoints: readonly string[] = []): void {
  const mounts = readMounts();
  for (const dir of new Set([layout.defaultMount(id), ...mountpoints])) removeMountDir(layout, dir, mounts);
  removeStackFiles(layout, id);
}

/**
 * After a world's views stopped (stop, delete): its mount directories, its aliases' ones and their
 * stack files, and the aliases' work directories in the world's own directory.
 */
export function removeViewLeftovers(layout: StoreLayout, id: string, mountpoint: string | undefined,
  aliases: readonly { readonly mountpoint: string; readonly stack?: string }[]): void {
  removeWorldLeftovers(layout, id, [...(mountpoint ? [mountpoint] : []), ...aliases.map((a) => a.mountpoint)]);
  for (const a of aliases) if (a.stack) removeStackFileAt(layout, a.stack);
  rmSync(join(layout.worldDir(id), 'alias-work'), { recursive: true, force: true });
}
