// The floor: no union at all. The layers are copied, lowest first, into one plain directory on the
// same disk (untimed), and the workload runs there. Read-only workloads share one copy (or use the
// layer itself); workloads that only add, remove or rename names get hard links, not copies.
import { execFile } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { firstLine } from '../proc.js';
import type { MountSpec, Peer, View } from './peer.js';

const execFileP = promisify(execFile);

export class Ext4Peer implements Peer {
  readonly id = 'ext4' as const;
  readonly label = 'ext4';
  readonly kind = 'floor' as const;
  private readonly shared = new Map<string, string>();
  private nextShared = 0;

  /** `cacheDir`: where read-only merged copies are kept for the whole run. */
  constructor(private readonly cacheDir: string) {}

  async prepare(): Promise<string | undefined> {
    const fs = firstLine('stat', ['-f', '-c', '%T', this.cacheDir]);
    return fs === undefined ? `cannot stat ${this.cacheDir}` : undefined;
  }

  describe(): string {
    const fs = firstLine('findmnt', ['-n', '-o', 'FSTYPE,SOURCE', '-T', this.cacheDir])?.replace(/\s+/g, ' ') ?? '?';
    return `a plain directory (${fs}) holding the layers copied together (or hard-linked, or the layer itself; see bench/README.md)`;
  }

  async mount(spec: MountSpec): Promise<View> {
    const none = async () => {};
    if (spec.writes === 'none') {
      if (spec.lowers.length === 1) return { path: spec.lowers[0]!, upper: spec.lowers[0]!, close: none };
      const key = spec.lowers.join('\0');
      let dir = this.shared.get(key);
      if (!dir) {
        dir = join(this.cacheDir, `merged${this.nextShared++}`);
        await mergeInto(spec.lowers, dir, false);
        await execFileP('sync'); // clean pages only: a cache drop must be able to evict the copy
        this.shared.set(key, dir);
      }
      return { path: dir, upper: dir, close: none };
    }
    const dir = join(spec.scratch, 'view');
    await mergeInto(spec.lowers, dir, spec.writes === 'names');
    return { path: dir, upper: dir, close: none };
  }
}

/**
 * Copy layers (highest first in `lowers`) into `dir`, lowest first, so higher ones win. `links`:
 * hard-link the files instead of copying their data (the workload never changes them in place).
 */
async function mergeInto(lowers: readonly string[], dir: string, links: boolean): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const how = links ? ['-a', '--link'] : ['-a', '--sparse=always'];
  for (const l of [...lowers].reverse()) await execFileP('cp', [...how, '--remove-destination', `${l}/.`, `${dir}/`]);
}
