// Test helper: a temporary unprivileged user, and a private mount namespace ("the holder") in which
// it runs commands. The machine's /dev/fuse is mode 0600 (no udev); inside the holder a 0666 node
// is bound over it — what `chmod 0666 /dev/fuse` does on a real machine, without changing this one.
// The repository is bound at a path every user can traverse (a CI checkout may sit under /root).
// FUSE mounts the user makes (through the setuid fusermount3) land in the holder's namespace and
// vanish with it. cleanup() kills every process of the user, the holder, then removes the user.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { alive } from './procs.js';

export const REPO = resolve(import.meta.dirname, '..', '..');

export interface AsUserResult {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export class UnprivilegedUser {
  private constructor(
    readonly name: string,
    readonly uid: number,
    readonly gid: number,
    /** Root-owned 0755 scratch directory: the fuse node, the repo bind and the user's home under it. */
    readonly dir: string,
    private readonly holder: ChildProcess,
    readonly fuseUsable: boolean,
  ) {}

  /** The repository as the user sees it (inside the holder). */
  get repo(): string { return join(this.dir, 'repo'); }
  /** The user's home (owned by the user). */
  get home(): string { return join(this.dir, 'home'); }

  /** Make the user and the holder; `fuse: false` leaves /dev/fuse as the machine has it. */
  static async make(opts: { fuse?: boolean } = {}): Promise<UnprivilegedUser> {
    const name = `wos${process.pid % 100000}${Math.floor(Math.random() * 1000)}`;
    execFileSync('useradd', ['--no-create-home', '--shell', '/bin/sh', '--user-group', name]);
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    const dir = mkdtempSync('/tmp/worldos-rootless-');
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'repo'));
    mkdirSync(join(dir, 'home'));
    execFileSync('chown', [`${uid}:${gid}`, join(dir, 'home')]);
    const fuse = opts.fuse ?? true;
    const binds = [`mount --bind "${REPO}" "${dir}/repo"`];
    if (fuse) {
      execFileSync('mknod', [join(dir, 'fuse'), 'c', '10', '229']);
      chmodSync(join(dir, 'fuse'), 0o666);
      binds.push(`mount --bind "${dir}/fuse" /dev/fuse`);
    }
    const holder = spawn('unshare', ['--mount', '--propagation', 'private', '--', 'sh', '-c', `${binds.join(' && ')} && echo ready && exec sleep 1000000`], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const ready = await new Promise<string>((res) => {
      let out = '';
      holder.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; if (out.includes('ready')) res(''); });
      holder.stderr!.setEncoding('utf8').on('data', (d: string) => { out += d; });
      holder.once('exit', () => res(`the holder exited: ${out}`));
    });
    const u = new UnprivilegedUser(name, uid, gid, dir, holder, fuse);
    if (ready) {
      await u.cleanup();
      throw new Error(ready);
    }
    return u;
  }

  /** Run argv as the user inside the holder, with a clean environment plus `env`. */
  run(argv: readonly string[], opts: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {}): AsUserResult {
    const env = {
      PATH: '/usr/local/bin:/usr/bin:/bin', HOME: this.home, USER: this.name, LANG: 'C.UTF-8', ...opts.env,
    };
    const r = spawnSync('nsenter', [
      `--target=${this.holder.pid}`, '--mount', '--',
      'setpriv', `--reuid=${this.uid}`, `--regid=${this.gid}`, '--clear-groups', '--',
      'env', '-i', ...Object.entries(env).map(([k, v]) => `${k}=${v}`), ...argv,
    ], { input: opts.input, encoding: 'utf8', timeout: opts.timeoutMs ?? 120_000, cwd: '/' });
    return { status: r.status, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '') };
  }

  /** Host pids of the user's processes (zombies included). */
  processes(): number[] {
    const out: number[] = [];
    for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
      try {
        if (statSync(`/proc/${p}`).uid === this.uid) out.push(Number(p));
      } catch { /* gone */ }
    }
    return out;
  }

  /** Mounts in the holder's namespace under our directory (FUSE mounts the user made). */
  mounts(): string[] {
    try {
      return readFileSync(`/proc/${this.holder.pid}/mountinfo`, 'utf8').split('\n')
        .map((l) => l.split(' ')[4] ?? '').filter((mp) => mp.startsWith(this.dir) && mp !== this.repo);
    } catch {
      return [];
    }
  }

  /** Kill everything of the user, the holder (its mounts go with its namespace), remove the user. */
  async cleanup(): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const left = this.processes().filter(alive);
      if (left.length === 0) break;
      for (const p of left) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (this.holder.exitCode === null && this.holder.signalCode === null) {
      const gone = new Promise((r) => this.holder.once('exit', r));
      this.holder.kill('SIGKILL');
      await gone;
    }
    try { execFileSync('userdel', [this.name], { stdio: 'ignore' }); } catch { /* already gone */ }
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}
