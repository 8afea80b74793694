// worldfs from this checkout (bin/worldfs), aufs whiteouts, its default options plus --worldfs-opts,
// on one transport: `worldfs` is fuse-native, `worldfs-kernel` the kernel-protocol transport
// (transport=kernel). Stopped with SIGTERM, its documented clean stop (it unmounts itself).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Cleanup } from '../cleanup.js';
import { firstLine } from '../proc.js';
import { FusePeer, type Layout } from './fuse-peer.js';

export class WorldfsPeer extends FusePeer {
  readonly id: 'worldfs' | 'worldfs-kernel';
  readonly label: string;
  protected override readonly stopBy = 'sigterm' as const;

  constructor(
    cleanup: Cleanup, probeDir: string, private readonly repo: string, private readonly extraOpts: string,
    private readonly transport: 'native' | 'kernel' = 'native',
  ) {
    super(cleanup, probeDir);
    this.id = transport === 'kernel' ? 'worldfs-kernel' : 'worldfs';
    this.label = this.id;
  }

  protected async install(): Promise<string | undefined> {
    if (!existsSync(join(this.repo, 'dist', 'fs', 'main.js'))) return 'dist/fs/main.js is missing: run npx tsc -p tsconfig.json';
    return undefined;
  }

  describe(): string {
    const commit = firstLine('git', ['-C', this.repo, 'rev-parse', '--short', 'HEAD']) ?? '?';
    const dirty = firstLine('git', ['-C', this.repo, 'status', '--porcelain', '--', 'src', 'fs']) ? ' (src/fs modified)' : '';
    return `worldfs ${commit}${dirty}, ${this.transport === 'kernel' ? 'kernel-protocol' : 'fuse-native'} transport, -o ${this.options()}`;
  }

  private options(): string {
    return ['whiteout=aufs', `transport=${this.transport}`, this.extraOpts].filter((s) => s !== '').join(',');
  }

  protected command(l: Layout) {
    const o = `lowerdir=${l.lowers.join(':')},upperdir=${l.upper},workdir=${l.work},${this.options()}`;
    return { cmd: join(this.repo, 'bin', 'worldfs'), args: ['-f', '-o', o, l.mnt] };
  }
}
