// Reading /proc/self/mountinfo (never the mount itself): is our mount still there?
import { readFileSync } from 'node:fs';

export interface MountEntry {
  readonly id: number;
  readonly mountpoint: string;
  readonly fstype: string;
  readonly source: string;
  /** The directory of its filesystem this mount shows ('/' unless a bind mount of a subdirectory). */
  readonly root: string;
  /** The filesystem's device, "major:minor" (one per superblock). */
  readonly dev: string;
}

/** Decode the octal escapes (\040 for space ...) mountinfo uses in paths. */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parse mountinfo text. Pure. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const f = line.split(' ');
    const sep = f.indexOf('-');
    if (sep < 0) continue;
    out.push({ id: Number(f[0]), mountpoint: unescape(f[4]!), fstype: f[sep + 1]!, source: unescape(f[sep + 2]!), root: unescape(f[3]!), dev: f[2]! });
  }
  return out;
}

export function readMounts(): MountEntry[] {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
}

/** The newest FUSE mount at `mountpoint`, if any. */
export function findFuseMount(mountpoint: string, mounts = readMounts()): MountEntry | undefined {
  let found: MountEntry | undefined;
  for (const m of mounts) if (m.mountpoint === mountpoint && m.fstype.startsWith('fuse')) found = m;
  return found;
}
