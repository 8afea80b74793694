// worldctl's version: package.json's, put into the bundle by esbuild at build time (define
// WORLDOS_VERSION, scripts/bundle.mjs), so `run` reads no file at start. tsc's output (the
// fallback when esbuild is absent) reads package.json, and only when --version is asked.
import { readFileSync } from 'node:fs';

declare const WORLDOS_VERSION: string | undefined;

/** The version of this worldos checkout, e.g. "0.1.0". */
export function version(): string {
  if (typeof WORLDOS_VERSION === 'string') return WORLDOS_VERSION;
  // dist/cli/version.js and (under vitest) cli/version.ts: the checkout's package.json is above.
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version: string };
      if (pkg.name === 'worldos') return pkg.version;
    } catch { /* not here */ }
  }
  throw new Error('cannot find worldos\'s package.json above ' + import.meta.url);
}
