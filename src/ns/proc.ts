// Reading processes from /proc: command lines, states, and pids as seen inside a PID namespace.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcInfo {
  readonly pid: number;
  /** Pids of this process in each PID namespace, outermost (host) first (NSpid). */
  readonly nspids: readonly number[];
  readonly state: string;
  readonly command: string;
  readonly pidns: string;
}

export function readProc(pid: number): ProcInfo | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const nspid = /^NSpid:\s+(.*)$/m.exec(status)?.[1]?.trim().split(/\s+/).map(Number) ?? [pid];
    const state = /^State:\s+(.*)$/m.exec(status)?.[1]?.trim() ?? '?';
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    const name = /^Name:\s+(.*)$/m.exec(status)?.[1] ?? '?';
    let pidns = '';
    try { pidns = readlinkSync(`/proc/${pid}/ns/pid`); } catch { /* gone */ }
    return { pid, nspids: nspid, state, command: cmd || `[${name}]`, pidns };
  } catch {
    return undefined;
  }
}

/** The children of a process (host pids). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * The live (not zombie) processes, other than `pid`, in the PID namespace `pid` is in: host pids.
 * A nested world's launcher is among them (its init is created inside this namespace), so a
 * namespace whose PID 1 would take others with it when it dies is seen as holding them.
 */
export function othersInPidNamespaceOf(pid: number): number[] {
  let ns: string;
  try { ns = readlinkSync(`/proc/${pid}/ns/pid`); } catch { return []; }
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === pid) continue;
    try { if (readlinkSync(`/proc/${name}/ns/pid`) !== ns) continue; } catch { continue; }
    const p = readProc(Number(name));
    if (p && !p.state.startsWith('Z')) out.push(p.pid);
  }
  return out;
}
