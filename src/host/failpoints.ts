// Failpoints: named places in the daemon's background work (or a merge) where a test may hold it, to
// make an interleaving certain rather than likely (a copy-up still staging while other requests
// arrive; a merge killed before or while bystanders keep their files).
// Off unless WORLDOS_FAILPOINTS names them: "name=/path/of/hold-file[,name=...]".
import { existsSync } from 'node:fs';

let points: ReadonlyMap<string, string> | undefined;

function configured(): ReadonlyMap<string, string> {
  points ??= new Map(
    (process.env.WORLDOS_FAILPOINTS ?? '').split(',').filter((p) => p.includes('='))
      .map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as [string, string]),
  );
  return points;
}

/**
 * Wait (asynchronously, never blocking the event loop) while failpoint `name`'s hold file exists,
 * or until `signal` aborts. Resolves at once when the failpoint is not configured.
 */
export async function holdAt(name: string, signal?: AbortSignal): Promise<void> {
  const file = configured().get(name);
  if (file === undefined) return;
  while (existsSync(file) && !signal?.aborted) await new Promise((r) => setTimeout(r, 20));
}
