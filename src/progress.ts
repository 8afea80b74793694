// Progress of long work (a merge of many files, a delete's grace period, a first mount over /),
// reported by the library as numbers and drawn by whoever runs it: the CLI draws a line on a
// terminal (cli/progress.ts), everything else reports to nobody.

/** One piece of long work: how far it got. */
export interface ProgressTask {
  /** `done` units of the task's total so far. */
  update(done: number): void;
  /** The work is over (its line, if one was drawn, is cleared). */
  end(): void;
}

export interface Progress {
  /** Start reporting `what` (a short phrase); `total` units of `unit` when known. */
  begin(what: string, total?: number, unit?: string): ProgressTask;
}

/** Reports to nobody (the default: tests, scripts, stderr not a terminal). */
export const silentProgress: Progress = { begin: () => ({ update() {}, end() {} }) };

/** Run `fn` with a task whose `update` is called every `everyMs` with the whole seconds since it began. */
export async function withElapsed<T>(progress: Progress, what: string, fn: () => Promise<T>, everyMs = 250): Promise<T> {
  const task = progress.begin(what, undefined, 's');
  const start = Date.now();
  const timer = setInterval(() => task.update(Math.floor((Date.now() - start) / 1000)), everyMs);
  try {
    return await fn();
  } finally {
    clearInterval(timer);
    task.end();
  }
}
