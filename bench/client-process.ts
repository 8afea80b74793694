// The suite's side of the client (client.ts): one long-lived child process, so that no Node
// start-up lands between a cache drop and a measurement. A request past its deadline kills the
// client (it may be stuck in a FUSE call); the next request starts a new one.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { DeadlineError, killGroup, runningGroups } from './proc.js';

export class ClientProcess {
  private child: ChildProcessWithoutNullStreams | undefined;
  private buffer = '';
  private waiting: ((line: string | Error) => void) | undefined;

  constructor(private readonly repo: string, private readonly timeoutSec: number) {}

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn(process.execPath, [join(this.repo, 'dist', 'bench', 'client.js'), 'serve'], {
      cwd: '/', detached: true, stdio: ['pipe', 'pipe', 'pipe'],
    });
    if (child.pid !== undefined) runningGroups.add(child.pid);
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      this.buffer += d;
      const nl = this.buffer.indexOf('\n');
      if (nl >= 0 && this.waiting) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        const w = this.waiting;
        this.waiting = undefined;
        w(line);
      }
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr = (stderr + d).slice(-2000); });
    child.on('exit', (code, signal) => {
      if (child.pid !== undefined) runningGroups.delete(child.pid);
      if (this.child === child) this.child = undefined;
      const w = this.waiting;
      this.waiting = undefined;
      w?.(new Error(`the client exited (${code ?? signal}): ${stderr.trim().split('\n').slice(-2).join(' | ')}`));
    });
    return child;
  }

  /** Send one request; resolves to the client's figures, rejects with its error. */
  request(op: string, ...args: (string | number)[]): Promise<Record<string, number>> {
    if (this.waiting) return Promise.reject(new Error('client busy'));
    const child = (this.child ??= this.start());
    this.buffer = '';
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        this.stop();
        reject(new DeadlineError(`over the ${this.timeoutSec} s deadline: client ${op}`, this.timeoutSec));
      }, this.timeoutSec * 1000);
      this.waiting = (line) => {
        clearTimeout(timer);
        if (line instanceof Error) return reject(line);
        const r = JSON.parse(line) as Record<string, number> & { error?: string };
        if (typeof r.error === 'string') reject(new Error(r.error));
        else resolve(r);
      };
      child.stdin.write(JSON.stringify([op, ...args.map(String)]) + '\n');
    });
  }

  stop(): void {
    const c = this.child;
    this.child = undefined;
    if (c) {
      c.stdin.end();
      killGroup(c.pid);
    }
  }
}
