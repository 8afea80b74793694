// A throw-away world store for the world figures: `worldctl init --base /` in a home of the
// suite's own, worlds created and run through this checkout's dist/worldctl (npm's bin), and every world
// deleted at the end or on any exit (registered with Cleanup), so no daemon, mount or cgroup stays.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cleanup } from './cleanup.js';
import { run, type Finished } from './proc.js';

export class WorldStore {
  private readonly worldctl: string;
  private readonly names = new Set<string>();
  private readonly undo: () => void;

  /** Deadline of the store's own commands (init, create, list, delete, untimed runs): never shorter than a minute. */
  private readonly timeoutSec: number;

  /** `home` must not exist yet or be empty; nothing is made until init(). */
  constructor(repo: string, readonly home: string, cleanup: Cleanup, timeoutSec: number) {
    this.timeoutSec = Math.max(timeoutSec, 60);
    this.worldctl = join(repo, 'dist', 'worldctl');
    this.undo = cleanup.atExit(() => this.deleteAllSync());
  }

  /** worldctl with this home; rejects on a non-zero exit or past `timeoutSec` (its process group is killed). */
  ctl(args: readonly string[], timeoutSec = this.timeoutSec): Promise<Finished> {
    return run(this.worldctl, ['--home', this.home, ...args], { timeoutSec, cwd: '/' });
  }

  async init(): Promise<void> {
    await this.ctl(['init', '--base', '/']);
  }

  async create(name: string): Promise<void> {
    this.names.add(name);
    await this.ctl(['create', name]);
  }

  /** `worldctl run NAME -- sh -c LINE` (its first run mounts the world); measured runs pass their own deadline. */
  runLine(name: string, line: string, timeoutSec = this.timeoutSec): Promise<Finished> {
    return this.ctl(['run', name, '--', 'sh', '-c', line], timeoutSec);
  }

  async delete(name: string): Promise<void> {
    await this.ctl(['delete', name]);
    this.names.delete(name);
  }

  /** Pid of the worldfs daemon serving `name`'s view, when it is mounted. */
  async daemonPid(name: string): Promise<number | undefined> {
    const worlds = JSON.parse((await this.ctl(['list', '--json'])).stdout) as { id: string; name: string }[];
    const id = worlds.find((w) => w.name === name)?.id;
    if (id === undefined) return undefined;
    try {
      const pid = Number(readFileSync(join(this.home, 'worlds', id, 'daemon'), 'utf8').split(' ')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** Delete what is left (synchronous, best effort): at the end, on a failure or a signal. */
  deleteAllSync(): void {
    for (const name of this.names) {
      try {
        execFileSync(this.worldctl, ['--home', this.home, 'delete', name], { stdio: 'ignore', timeout: 60_000 });
      } catch (e) {
        process.stderr.write(`bench: worldctl delete ${name} (home ${this.home}) failed: ${(e as Error).message}\n`);
      }
    }
    this.names.clear();
  }

  /** Delete every world left and forget the exit hook. */
  close(): void {
    this.deleteAllSync();
    this.undo();
  }
}

/** The worldfs daemon's command line (its -o options say how the world is served). */
export function commandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter((s) => s !== '').join(' ');
  } catch {
    return undefined;
  }
}
