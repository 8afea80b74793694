// The worldfs daemon's entry (bin/worldfs execs it with its node flags): dist/fs/main.js, from the
// one-file bundle dist/worldfs.cjs with V8's code cache while it is newer than tsc's output
// (bin/cached-bundle.mjs). Every world's first `run` and every mount starts one: loading ~60
// modules one by one and compiling them cost a mount ~50 ms, and each function's first call in the
// first requests a fresh daemon serves (a cold stat walk of 200 files: 22-23 → 16-19 ms). A daemon
// running in the background starts itself again through this file (fs/main.ts, daemonize). The
// cache is rewritten by a daemon that compiled a tenth more than it holds: the first daemon to
// exit after a build may have served nothing.
import { start } from './cached-bundle.mjs';

await start(new URL('../dist/worldfs.cjs', import.meta.url), new URL('../dist/fs/main.js', import.meta.url), true);
