// A progress line on a terminal (stderr): "what: done/total unit", redrawn in place at most ten
// times a second, shown only once a task has run for a moment (quick work prints nothing), and
// cleared when the task ends. Not used when stderr is not a terminal: nothing extra is printed.
import type { Progress, ProgressTask } from '../src/progress.js';

export interface TerminalProgressOptions {
  /** A task is drawn only after running this long. */
  readonly delayMs?: number;
  /** At most one redraw per this interval. */
  readonly everyMs?: number;
  readonly now?: () => number;
}

export function terminalProgress(write: (s: string) => void, opts: TerminalProgressOptions = {}): Progress {
  const now = opts.now ?? Date.now;
  const delay = opts.delayMs ?? 300;
  const every = opts.everyMs ?? 100;
  return {
    begin(what: string, total?: number, unit = ''): ProgressTask {
      const start = now();
      let drawn = false;
      let last = -Infinity;
      return {
        update(done: number) {
          const t = now();
          if (t - start < delay || t - last < every) return;
          last = t;
          drawn = true;
          const count = total === undefined ? `${done}` : `${done}/${total}`;
          write(`\r\x1b[K${what}: ${count}${unit ? ' ' + unit : ''}`);
        },
        end() {
          if (drawn) write('\r\x1b[K');
          drawn = false;
        },
      };
    },
  };
}
