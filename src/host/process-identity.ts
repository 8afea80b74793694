// A process named by its pid AND its start time, so a reused pid is never mistaken for a live
// process we started (as crun does).
import { readFileSync } from 'node:fs';

/** Field 22 of /proc/<pid>/stat (start time in clock ticks since boot), or undefined if gone. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm (field 2) may contain spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

export interface ProcessRef {
  readonly pid: number;
  readonly start: string;
}

export function refOf(pid: number): ProcessRef | undefined {
  const start = startTimeOf(pid);
  return start === undefined ? undefined : { pid, start };
}

/** Whether the process is still the one we recorded (not a zombie either). */
export function isAlive(ref: ProcessRef): boolean {
  if (startTimeOf(ref.pid) !== ref.start) return false;
  try {
    const stat = readFileSync(`/proc/${ref.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
