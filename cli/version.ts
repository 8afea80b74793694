// worldctl's version: package.json's, put into the bundle by esbuild at build time (define
// WORLDOS_VERSION, scripts/bundle-cli.mjs), so `run` reads no file at start. tsc's output (the
// fallback when esbuild is absent) reads package.json, and only when --version is asked.
import { readFileSync } from 'node:fs';

declare const WORLDOS_VERSION: string | undefined;

/** The version of this worldos checkout, e.g. "0.1.0". */
export function version(): string {
  if (typeof WORLDOS_VERSION === 'string') return WORLDOS_VERSION;
  // dist/cli/version.js -> ../../package.json
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
