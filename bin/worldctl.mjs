#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node --min-semi-space-size=16
// worldctl in Node: every command (bin/worldctl, a shell script, hands `run` to dist/worldrun first).
// Its start-up is paid by every command (and by each `run` that worldrun hands over), so:
// NODE_EXTRA_CA_CERTS unset (Node reads that whole bundle of
// certificates at start, ~40 ms here, and worldctl speaks no TLS); a young generation big enough
// that start-up needs no scavenge (two, 10-25 ms, before); and the one-file bundle
// dist/worldctl.cjs with V8's code cache (bin/cached-bundle.mjs) while it is newer than tsc's output.
import { start } from './cached-bundle.mjs';

await start(new URL('../dist/worldctl.cjs', import.meta.url), new URL('../dist/cli/main.js', import.meta.url));
