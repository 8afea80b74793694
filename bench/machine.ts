// The machine a run was made on, recorded with every result: numbers mean little without it.
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { firstLine } from './proc.js';

export interface Machine {
  readonly cpuModel: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly os: string;
  readonly node: string;
  /** Filesystem and device of the directory the layers and uppers live on. */
  readonly disk: string;
  /**
   * What decides where a woken FUSE client or daemon runs, where this kernel says: the fuse module's
   * `wake_here` (a woken task runs on the waker's CPU) and guest halt polling. On a VM whose idle
   * CPUs halt, they set the cost of every round trip (bench/README.md, "Wake-ups"). Optional: older
   * results have none.
   */
  readonly wakeups?: string;
  /** 1-minute load average when the run started and ended: a noisy machine shows here. */
  loadStart: number;
  loadEnd?: number;
}

export function describeMachine(workDir: string): Machine {
  const cpuInfo = (() => { try { return readFileSync('/proc/cpuinfo', 'utf8'); } catch { return ''; } })();
  const model = /^model name\s*:\s*(.*)$/m.exec(cpuInfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  const os = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec((() => { try { return readFileSync('/etc/os-release', 'utf8'); } catch { return ''; } })())?.[1] ?? 'unknown';
  return {
    cpuModel: model.trim(), cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30 * 10) / 10,
    kernel: release(), os, node: process.version,
    disk: firstLine('findmnt', ['-n', '-o', 'FSTYPE,SOURCE,OPTIONS', '-T', workDir])?.replace(/\s+/g, ' ') ?? 'unknown',
    wakeups: describeWakeups(),
    loadStart: loadavg()[0]!,
  };
}

/** The wake-up settings this kernel exposes, "name=value" each; "not exposed" when none is. */
export function describeWakeups(sys = '/sys/module'): string {
  const read = (p: string) => { try { return readFileSync(`${sys}/${p}`, 'utf8').trim(); } catch { return undefined; } };
  const found = [
    ['fuse wake_here', read('fuse/parameters/wake_here')],
    ['haltpoll guest_halt_poll_ns', read('haltpoll/parameters/guest_halt_poll_ns')],
  ].filter((x): x is [string, string] => x[1] !== undefined);
  return found.length ? found.map(([k, v]) => `${k}=${v}`).join(', ') : 'not exposed';
}

export function finishMachine(m: Machine): void {
  m.loadEnd = loadavg()[0]!;
}
