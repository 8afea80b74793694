// Build step (after tsc): bundle worldctl — dist/cli/main.js and every module it imports, packages
// included — into one file, dist/worldctl.cjs. Loading ~110 modules one by one cost each start
// ~0.1 s (fast-xml-parser alone ~25 files); the bundle loads as one. CommonJS, not ESM, because
// bin/worldctl compiles it through vm.Script with V8's code cache, which Node 20 offers for scripts
// only. bin/worldctl uses the bundle only while it is newer than dist/cli/main.js (tsc rewrites
// every output), so a `tsc` run alone never leaves it running stale code. Without esbuild (an
// install without dev dependencies) the step is skipped and bin/worldctl loads dist/cli/main.js.
import { readFileSync, rmSync } from 'node:fs';
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
const out = join(root, 'dist', 'worldctl.cjs');
await esbuild.build({
  entryPoints: [join(root, 'dist', 'cli', 'main.js')],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Native addons stay outside, loaded from node_modules as before.
  external: ['@napi-rs/xattr', 'fuse-native'],
  // The sources find dist/ and bin/ from import.meta.url: in the bundle, the bundle's own URL.
  define: {
    'import.meta.url': '__worldctlUrl',
    // worldctl --version without reading package.json at each start (cli/version.ts).
    WORLDOS_VERSION: JSON.stringify(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version),
  },
  banner: { js: "const __worldctlUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
// The code cache of the previous bundle (bin/worldctl would not use it: its key names the bundle)
// and the ESM bundle earlier builds made.
rmSync(`${out}.cache`, { force: true });
rmSync(join(root, 'dist', 'worldctl.mjs'), { force: true });
