// logs: what a world's detached processes printed (output-log.ts), once or followed (-f) until
// the world is gone (deleted, or merged away: its output then follows its processes).
import { findById } from '../registry/model.js';
import { mustFindByName, type WorldsContext } from './context.js';
import { adoptedLabel, OutputReader, outputFiles } from './output-log.js';

/** Everything the world's processes printed so far (its own output, then that of merged worlds). */
export function worldLogs(ctx: WorldsContext, name: string): string {
  const w = mustFindByName(ctx.store.read(), name);
  return new OutputReader((f) => adoptedLabel(f, w.name)).read(outputFiles(ctx.layout, w.id));
}

export interface FollowOptions {
  /** How often new output is looked for. */
  readonly intervalMs?: number;
  /** Stops following (the CLI's Ctrl-C ends the process instead). */
  readonly signal?: AbortSignal;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Write the world's output, then what it prints next, until the world is gone or `signal` aborts.
 * Resolves with why it stopped. Polls: the files may be moved by a merge or removed by a delete
 * at any time, and a poll sees both without watches to re-arm.
 */
export async function followLogs(ctx: WorldsContext, name: string, write: (s: string) => void, opts: FollowOptions = {}): Promise<'gone' | 'aborted'> {
  const w = mustFindByName(ctx.store.read(), name);
  const reader = new OutputReader((f) => adoptedLabel(f, w.name));
  for (;;) {
    const text = reader.read(outputFiles(ctx.layout, w.id));
    if (text) write(text);
    if (opts.signal?.aborted) return 'aborted';
    const now = findById(ctx.store.read(), w.id);
    if (!now || now.state === 'deleting' || now.name !== w.name) {
      const last = reader.read(outputFiles(ctx.layout, w.id)); // what it printed while it went
      if (last) write(last);
      return 'gone';
    }
    await sleep(opts.intervalMs ?? 200);
  }
}
