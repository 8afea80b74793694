// The FUSE peers share one shape: a command line built from the layers, a daemon in the
// foreground as our child, a probe mount to learn whether it runs here at all.
import { execFile, execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Cleanup } from '../cleanup.js';
import type { PeerId } from '../options.js';
import { startDaemon } from './fuse-daemon.js';
import type { MountSpec, Peer, View } from './peer.js';

const execFileP = promisify(execFile);

export interface Layout {
  readonly lowers: readonly string[];
  readonly upper: string;
  readonly work: string;
  readonly mnt: string;
}

export abstract class FusePeer implements Peer {
  abstract readonly id: PeerId;
  abstract readonly label: string;
  readonly kind = 'fuse' as const;
  /** How the daemon is asked to stop. */
  protected readonly stopBy: 'umount' | 'sigterm' = 'umount';

  constructor(protected readonly cleanup: Cleanup, private readonly probeDir: string) {}

  /** The daemon's command and arguments, in the foreground. */
  protected abstract command(l: Layout): { cmd: string; args: string[]; env?: NodeJS.ProcessEnv };
  /** Make the command present (install its package); resolves to why it is not, or undefined. */
  protected abstract install(): Promise<string | undefined>;
  abstract describe(): string;

  async prepare(): Promise<string | undefined> {
    const missing = await this.install();
    if (missing) return missing;
    const dir = join(this.probeDir, this.id);
    mkdirSync(join(dir, 'l'), { recursive: true });
    try {
      const v = await this.mount({ lowers: [join(dir, 'l')], scratch: dir, writes: 'files' });
      await v.close();
      return undefined;
    } catch (e) {
      return `probe mount failed: ${(e as Error).message.trim()}`;
    }
  }

  async mount(spec: MountSpec): Promise<View> {
    const l: Layout = { lowers: spec.lowers, upper: join(spec.scratch, 'u'), work: join(spec.scratch, 'w'), mnt: join(spec.scratch, 'm') };
    for (const d of [l.upper, l.work, l.mnt]) mkdirSync(d, { recursive: true });
    const { cmd, args, env } = this.command(l);
    const daemon = await startDaemon({ cmd, args, env, mountpoint: l.mnt, log: join(spec.scratch, 'daemon.log'), stop: this.stopBy }, this.cleanup);
    return { path: l.mnt, upper: this.upperOf(l), daemonPid: daemon.pid, close: () => daemon.stop() };
  }

  /** Where writes land on the host (unionfs-fuse and the others: the upper directory). */
  protected upperOf(l: Layout): string {
    return l.upper;
  }
}

/** Install a Debian package if `command` is missing; resolves to why it could not be, or undefined. */
export async function ensureDebianPackage(command: string, pkg: string): Promise<string | undefined> {
  const has = async () => execFileP('sh', ['-c', `command -v ${command}`]).then(() => true, () => false);
  if (await has()) return undefined;
  if (process.getuid?.() !== 0) return `${command} is missing and installing ${pkg} needs root`;
  process.stderr.write(`bench: installing the Debian package ${pkg} (for ${command})\n`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () => execFileP('apt-get', ['install', '-y', '-qq', '--no-install-recommends', pkg], { env });
  try {
    await install();
  } catch {
    try {
      await execFileP('apt-get', ['update', '-qq'], { env });
      await install();
    } catch (e) {
      return `apt-get install ${pkg} failed: ${String((e as { stderr?: string }).stderr || (e as Error).message).trim().split('\n').slice(-1)[0]}`;
    }
  }
  return (await has()) ? undefined : `${pkg} installed but ${command} is still missing`;
}

/** The installed Debian version of a package, or "?" when dpkg does not know it. */
export function debianVersion(pkg: string): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f', '${Version}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || '?';
  } catch {
    return '?';
  }
}
