// Build step (after tsc): bundle worldctl — dist/cli/main.js and every module it imports, packages
// included — into one file, dist/worldctl.mjs. Loading ~110 modules one by one cost each start
// ~0.1 s (fast-xml-parser alone ~25 files); the bundle loads as one. bin/worldctl uses the bundle
// only while it is newer than dist/cli/main.js (tsc rewrites every output), so a `tsc` run alone
// never leaves it running stale code. Without esbuild (an install without dev dependencies) the
// step is skipped and bin/worldctl loads dist/cli/main.js.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('bundle-cli: esbuild is not installed; bin/worldctl will load dist/cli/main.js (slower start)');
  process.exit(0);
}
await esbuild.build({
  entryPoints: [join(root, 'dist', 'cli', 'main.js')],
  outfile: join(root, 'dist', 'worldctl.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Native addons stay outside, loaded from node_modules as before.
  external: ['@napi-rs/xattr', 'fuse-native'],
  // CommonJS packages bundled into ESM need a require() for Node's built-in modules.
  banner: { js: "import { createRequire as __worldctlRequire } from 'node:module';\nconst require = __worldctlRequire(import.meta.url);" },
  // worldctl --version without reading package.json at each start (cli/version.ts).
  define: { WORLDOS_VERSION: JSON.stringify(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version) },
  logLevel: 'warning',
});
