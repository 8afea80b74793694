// Reading processes from /proc: command lines, states, and pids as seen inside a PID namespace.
import { readFileSync, readlinkSync } from 'node:fs';

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
