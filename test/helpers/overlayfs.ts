// Test helper: mount kernel overlayfs (the oracle of differential tests) and remove every mount
// made here with `unmountOverlays()` (call it in afterEach, it runs even when a test failed).
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { isMounted } from './worldfs.js';

export interface OverlaySpec {
  /** Highest priority first. */
  lowers: readonly string[];
  upper: string;
  work: string;
  mnt: string;
  /** Mount options instead of OVERLAY_OPTIONS. */
  options?: readonly string[];
}

/**
 * redirect_dir=on: directories that draw on lower layers can be renamed (without it overlayfs
 * answers EXDEV, which is not POSIX and which worldfs deliberately does not copy).
 * index=off, metacopy=off: copy-up always copies data, the defaults on this kernel, made explicit.
 */
export const OVERLAY_OPTIONS = ['redirect_dir=on', 'index=off', 'metacopy=off'] as const;

const live = new Set<string>();

/** Mount overlayfs at spec.mnt; throws with mount(8)'s message when the kernel refuses. */
export function mountOverlay(spec: OverlaySpec): string {
  mkdirSync(spec.mnt, { recursive: true });
  const o = [`lowerdir=${spec.lowers.join(':')}`, `upperdir=${spec.upper}`, `workdir=${spec.work}`, ...(spec.options ?? OVERLAY_OPTIONS)].join(',');
  execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', o, spec.mnt], { stdio: ['ignore', 'ignore', 'pipe'] });
  live.add(spec.mnt);
  return spec.mnt;
}

/** Unmount every overlay mounted by this helper (lazily if busy). */
export function unmountOverlays(): void {
  for (const mnt of live) {
    live.delete(mnt);
    if (!isMounted(mnt)) continue;
    try {
      execFileSync('umount', [mnt], { stdio: 'ignore' });
    } catch {
      execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
    }
  }
}
