// The PID namespaces a world owns, as "inode initPid initStart" lines in one file. A namespace lives
// exactly as long as its PID 1, so an entry whose init is gone is dead and dropped: a new namespace
// that happens to reuse the inode number is never mistaken for it.
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { isAlive, type ProcessRef } from '../host/process-identity.js';
import { writeFileAtomic } from '../registry/atomic-file.js';

export interface PidNamespaceEntry {
  /** The namespace as /proc/PID/ns/pid names it: "pid:[4026532xyz]". */
  readonly ns: string;
  readonly init: ProcessRef;
}

export function pidNamespaceOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/pid`);
  } catch {
    return undefined; // gone, or another user's process
  }
}

export class PidNamespaceRecord {
  constructor(readonly file: string) {}

  /** Live entries only. */
  entries(): PidNamespaceEntry[] {
    if (!existsSync(this.file)) return [];
    const out: PidNamespaceEntry[] = [];
    for (const line of readFileSync(this.file, 'utf8').split('\n')) {
      const m = /^(\S+) (\d+) (\d+)$/.exec(line.trim());
      if (!m) continue;
      const e = { ns: m[1]!, init: { pid: Number(m[2]), start: m[3]! } };
      if (isAlive(e.init)) out.push(e);
    }
    return out;
  }

  add(init: ProcessRef): void {
    const ns = pidNamespaceOf(init.pid);
    if (ns === undefined) throw new Error(`cannot read the PID namespace of the world's init (pid ${init.pid})`);
    this.addAll([{ ns, init }]);
  }

  addAll(more: readonly PidNamespaceEntry[]): void {
    const all = [...this.entries(), ...more];
    const seen = new Set<string>();
    const lines = all.filter((e) => !seen.has(e.ns) && seen.add(e.ns)).map((e) => `${e.ns} ${e.init.pid} ${e.init.start}\n`);
    writeFileAtomic(this.file, lines.join(''));
  }

  clear(): void { rmSync(this.file, { force: true }); }

  /** Host pids of every process in one of the recorded namespaces (not in namespaces nested in them). */
  members(): number[] {
    const owned = new Set(this.entries().map((e) => e.ns));
    if (owned.size === 0) return [];
    const out: number[] = [];
    for (const name of readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const ns = pidNamespaceOf(Number(name));
      if (ns !== undefined && owned.has(ns)) out.push(Number(name));
    }
    return out.sort((a, b) => a - b);
  }
}
