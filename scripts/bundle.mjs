// Build step (after tsc): bundle each program — its entry in dist/ and every module it imports,
// packages included — into one CommonJS file: worldctl (dist/cli/main.js → dist/worldctl.cjs) and
// the worldfs daemon (dist/fs/main.js → dist/worldfs.cjs). Loading ~110 modules one by one cost
// worldctl's start ~0.1 s (fast-xml-parser alone ~25 files), a daemon's ~50 ms. CommonJS, not ESM,
// because bin/cached-bundle.mjs compiles a bundle through vm.Script with V8's code cache, which
// Node 20 offers for scripts only; it uses a bundle only while it is newer than its entry (tsc
// rewrites every output), so a `tsc` run alone never leaves a program running stale code. Without
// esbuild (an install without dev dependencies) the step is skipped and the entries load as they are.
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
let esbuild;
try {
  esbuild = await import('esbuild');
} catch {
  console.error('bundle: esbuild is not installed; bin/worldctl and bin/worldfs will load dist/ module by module (slower start)');
  process.exit(0);
}
const version = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

/** Bundle dist/`entry` into dist/`out`; the sources' import.meta.url is the entry's (they find dist/, bin/ and addons from it). */
async function bundle(entry, out, define = {}) {
  const outfile = join(root, 'dist', out);
  await esbuild.build({
    entryPoints: [join(root, 'dist', entry)],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // Native addons stay outside, loaded from node_modules as before.
    external: ['@napi-rs/xattr', 'fuse-native'],
    define: { 'import.meta.url': '__entryUrl', ...define },
    banner: { js: `const __entryUrl = require('node:url').pathToFileURL(require('node:path').join(__dirname, ${JSON.stringify(entry)})).href;` },
    logLevel: 'warning',
  });
  // The code cache of the previous bundle (bin/cached-bundle.mjs would not use it: its key names the bundle).
  rmSync(`${outfile}.cache`, { force: true });
}

// worldctl --version without reading package.json at each start (cli/version.ts).
await bundle('cli/main.js', 'worldctl.cjs', { WORLDOS_VERSION: JSON.stringify(version) });
await bundle('fs/main.js', 'worldfs.cjs');
// The ESM bundle earlier builds made.
rmSync(join(root, 'dist', 'worldctl.mjs'), { force: true });
