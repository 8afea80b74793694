#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node --min-semi-space-size=16
// worldctl in Node: every command (bin/worldctl, a shell script, hands `run` to dist/worldrun first).
// Its start-up is paid by every command (and by each `run` that worldrun hands over), so:
// NODE_EXTRA_CA_CERTS unset (Node reads that whole bundle of
// certificates at start, ~40 ms here, and worldctl speaks no TLS); a young generation big enough
// that start-up needs no scavenge (two, 10-25 ms, before); and the one-file bundle
// dist/worldctl.cjs (scripts/bundle-cli.mjs) while it is newer than tsc's output, else that output.
// The bundle is compiled with V8's code cache (dist/worldctl.cjs.cache, written by the first run
// after a build: ~40% of the bundle's start-up was compiling it). The cache names the bundle's
// size and mtime: V8 itself checks only the source's length, so a cache of another build of the
// same length must never be handed to it.
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const at = (p) => new URL(p, import.meta.url);
const stat = (u) => { try { return statSync(u); } catch { return undefined; } };
const bundle = at('../dist/worldctl.cjs');
const main = at('../dist/cli/main.js');
const b = stat(bundle);
if (b && b.mtimeMs >= (stat(main)?.mtimeMs ?? -1)) runBundle(fileURLToPath(bundle), `${b.size} ${b.mtimeMs}\n`);
else await import(main.href);

/** Run the CommonJS bundle at `file` as Node's loader would, compiled from the code cache when it matches `key`. */
function runBundle(file, key) {
  const cacheFile = `${file}.cache`;
  const cached = readCache(cacheFile, key);
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`, {
    filename: file, cachedData: cached, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  // Written at exit, so it holds the functions this command compiled too, not only the top level.
  if (!cached || script.cachedDataRejected) process.once('exit', () => writeCache(cacheFile, key, script));
  const module = { exports: {}, filename: file, id: '.', loaded: false };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
}

/** The cached data after the key line, or undefined when there is none for this bundle. */
function readCache(cacheFile, key) {
  let buf;
  try { buf = readFileSync(cacheFile); } catch { return undefined; }
  const head = Buffer.from(key);
  return buf.length > head.length && buf.subarray(0, head.length).equals(head) ? buf.subarray(head.length) : undefined;
}

/** Best effort, atomically (a concurrent start reads a whole cache or none): dist may be read-only. */
function writeCache(cacheFile, key, script) {
  const tmp = `${cacheFile}.${process.pid}`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(key), script.createCachedData()]));
    renameSync(tmp, cacheFile);
  } catch {
    rmSync(tmp, { force: true }); // no cache: the next start compiles again
  }
}
