// One daemon, one view, one init per world, whatever runs at once (issue 13 point 4): bringing a
// world up (mounting its view, starting its init) happens under an exclusive lock file of its own,
// and whoever gets it looks again before starting anything. The registry lock is not held
// meanwhile: mounting takes seconds, and other worlds' commands must not wait for it.
import { acquireLock } from '../registry/lock-file.js';
import type { WorldsContext } from './context.js';

/** How long a second starter waits for the first (a mount over / can take seconds on a loaded machine). */
const START_WAIT_MS = 120_000;

/** Run `fn` holding world `id`'s start lock; released even when `fn` fails. */
export async function underStartLock<T>(ctx: WorldsContext, id: string, fn: () => Promise<T>): Promise<T> {
  const lock = acquireLock(ctx.layout.startLock(id), { timeoutMs: START_WAIT_MS });
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
