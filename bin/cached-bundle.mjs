// Starting a program from its one-file bundle (scripts/bundle.mjs) with V8's code cache: what
// bin/worldctl.mjs and bin/worldfs.mjs share. Loading ~110 modules one by one cost each start
// ~0.1 s; compiling the bundle was ~40% of what remained, and the cache saves it.
// The bundle is used only while it is newer than tsc's output of the entry (tsc rewrites every
// output), so a `tsc` run alone never leaves a program running stale code; otherwise the entry is
// imported as it is. The cache (BUNDLE.cache) is written at exit when there was none or V8
// refused it, so it holds the functions the process compiled too, not only the top level. It
// names the bundle's size and mtime: V8 itself checks only the source's length, so a cache of
// another build of the same length must never be handed to it.
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const stat = (u) => { try { return statSync(u); } catch { return undefined; } };

/**
 * Run the bundle at URL `bundle` (CommonJS) if it is newer than the ESM module at URL `entry`, else
 * import `entry`. `grow`: at exit, also replace a cache that holds a tenth less than this process
 * compiled (a daemon: the first one to exit after a build may have served nothing).
 */
export async function start(bundle, entry, grow = false) {
  const b = stat(bundle);
  if (b && b.mtimeMs >= (stat(entry)?.mtimeMs ?? -1)) runBundle(fileURLToPath(bundle), `${b.size} ${b.mtimeMs}\n`, grow);
  else await import(entry.href);
}

/** Run the CommonJS bundle at `file` as Node's loader would, compiled from the code cache when it matches `key`. */
function runBundle(file, key, grow) {
  const cacheFile = `${file}.cache`;
  const cached = readCache(cacheFile, key);
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, 'utf8')}\n})`, {
    filename: file, cachedData: cached, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (!cached || script.cachedDataRejected) process.once('exit', () => writeCache(cacheFile, key, script.createCachedData()));
  else if (grow) {
    process.once('exit', () => {
      const data = script.createCachedData();
      if (data.length > cached.length * 1.1) writeCache(cacheFile, key, data);
    });
  }
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

/**
 * Best effort, atomically (a concurrent start reads a whole cache or none): dist may be read-only.
 * Mode 0644 whatever the umask (a daemon runs with 0): the cache is code a root daemon runs.
 */
function writeCache(cacheFile, key, data) {
  const tmp = `${cacheFile}.${process.pid}`;
  try {
    writeFileSync(tmp, Buffer.concat([Buffer.from(key), data]), { mode: 0o644, flag: 'wx' });
    renameSync(tmp, cacheFile);
  } catch {
    rmSync(tmp, { force: true }); // no cache: the next start compiles again
  }
}
