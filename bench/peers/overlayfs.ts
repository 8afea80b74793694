// Kernel overlayfs with the kernel's default options (the module's redirect_dir, metacopy and
// index settings are recorded in the results).
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isMounted, lazyUnmount, type Cleanup } from '../cleanup.js';
import type { MountSpec, Peer, View } from './peer.js';

const execFileP = promisify(execFile);
const PARAMS = '/sys/module/overlay/parameters';

export class OverlayfsPeer implements Peer {
  readonly id = 'overlayfs' as const;
  readonly label = 'overlayfs';
  readonly kind = 'kernel' as const;
  constructor(private readonly cleanup: Cleanup, private readonly probeDir: string) {}

  async prepare(): Promise<string | undefined> {
    // A real mount of two tiny layers: the reason a peer cannot run is the kernel's own answer.
    const dir = join(this.probeDir, 'overlayfs');
    for (const d of ['l', 'u', 'w', 'm']) mkdirSync(join(dir, d), { recursive: true });
    try {
      const v = await this.mount({ lowers: [join(dir, 'l')], scratch: dir, writes: 'files' }, join(dir, 'm'));
      await v.close();
      return undefined;
    } catch (e) {
      return `mount -t overlay failed: ${(e as Error).message.trim()}`;
    }
  }

  describe(): string {
    let params = '';
    try {
      params = readdirSync(PARAMS).map((p) => `${p}=${readFileSync(join(PARAMS, p), 'utf8').trim()}`).join(' ');
    } catch { /* built in without parameters */ }
    return `kernel ${readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()}, default options (module: ${params || 'n/a'})`;
  }

  async mount(spec: MountSpec, at?: string): Promise<View> {
    const upper = join(spec.scratch, 'u');
    const work = join(spec.scratch, 'w');
    const mnt = at ?? join(spec.scratch, 'm');
    for (const d of [upper, work, mnt]) mkdirSync(d, { recursive: true });
    const opts = `lowerdir=${spec.lowers.join(':')},upperdir=${upper},workdir=${work}`;
    const untrack = this.cleanup.track({ mountpoint: mnt });
    try {
      await execFileP('mount', ['-t', 'overlay', 'overlay', '-o', opts, mnt]);
    } catch (e) {
      untrack();
      throw new Error(String((e as { stderr?: string }).stderr || (e as Error).message));
    }
    return {
      path: mnt, upper,
      async close() {
        try { await execFileP('umount', [mnt]); } catch { lazyUnmount(mnt); }
        if (isMounted(mnt)) lazyUnmount(mnt);
        untrack();
      },
    };
  }
}
