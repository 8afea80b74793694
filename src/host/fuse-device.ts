// Whether this user can use FUSE at all, and with which mount options. Checked before a mount so an
// unprivileged user gets the reason and the fix, not libfuse's "fuse failed".
import { accessSync, constants, readFileSync, statSync } from 'node:fs';

export const FUSE_DEVICE = '/dev/fuse';

const isRoot = () => process.getuid?.() === 0;

/** Why `device` cannot be opened by this user, with the fix; undefined when it can. */
export function fuseDeviceProblem(device = FUSE_DEVICE): string | undefined {
  let mode: number;
  try {
    mode = statSync(device).mode & 0o777;
  } catch {
    return `${device} does not exist: load the fuse module (as root: modprobe fuse) or, in a container, pass the device in (--device /dev/fuse)`;
  }
  try {
    accessSync(device, constants.R_OK | constants.W_OK);
    return undefined;
  } catch {
    return `${device} is mode ${mode.toString(8).padStart(4, '0')} and not usable by uid ${process.getuid?.()}; ` +
      `as root run: chmod 0666 ${device} (Debian's default; to keep it across reboots add the udev rule ` +
      `KERNEL=="fuse", MODE="0666" to /etc/udev/rules.d/99-fuse.rules)`;
  }
}

/**
 * Whether a mount may carry allow_other: always as root; otherwise only when /etc/fuse.conf has
 * user_allow_other (fusermount refuses the mount otherwise). Without it, only this user (and
 * processes of its user namespaces, which keep its uid) can enter the mount, which is all a
 * rootless world needs.
 */
export function mayAllowOther(conf = '/etc/fuse.conf'): boolean {
  if (isRoot()) return true;
  try {
    return /^\s*user_allow_other\s*$/m.test(readFileSync(conf, 'utf8'));
  } catch {
    return false;
  }
}
