// Post-install step (and, with --if-stale, the first step of npm run build): compile the project's
// small C pieces with the machine's C compiler (present wherever npm builds addons) into dist/:
//   dist/worldinit     PID 1 of every world (src/ns/worldinit.c)
//   dist/worldshim     the parent of a command in a world, exec'd by nsenter (src/ns/worldshim.c);
//                      static, so its exec inside a world loads nothing through the world's view
//   dist/worldrun      `worldctl run` without Node while a run ticket vouches for it (src/ns/worldrun.c);
//                      static: no dynamic loader on the path of every command run in a world
//   dist/worldctl      a symbolic link to worldrun, what npm's bin names: worldctl with no shell in front
//                      (worldrun takes the command line of worldctl itself when called by that name)
//   dist/worldkeep     holds a world's /dev/fuse connection and starts its daemon again on it should
//                      the daemon die (src/host/worldkeep.c)
//   dist/syscalls.node utimensat / mknod / renameat2 / fanotify / FUSE passthrough ioctls for worldfs (src/host/syscalls.c,
//                      src/host/fanotify.c and fanotify-events.c, with a reader thread: -pthread), against
//                      Node's own headers (npm's nodedir, else next to the node binary)
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });
const cc = process.env.CC || 'cc';
const headers = [process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
  join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) => d && existsSync(join(d, 'node_api.h')));
if (!headers) throw new Error("Node's headers (node_api.h) were not found; set npm_config_nodedir");
// --if-stale (npm run build): compile only an output older than one of its sources or headers, so
// that a checkout updated with git pull gets the C side it needs without a second npm ci.
const ifStale = process.argv.includes('--if-stale');
const mtime = (f) => { try { return statSync(f).mtimeMs; } catch { return -1; } };
const hostHeaders = ['syscalls.h', 'fanotify.h', 'fanotify-events.h', 'fuse-passthrough.h', 'inotify.h', 'napi-errno.h'].map((h) => join(root, 'src', 'host', h)).filter(existsSync);
const build = (out, sources, extra, deps = []) => {
  if (ifStale && mtime(out) >= Math.max(...[...sources, ...deps].map(mtime))) return;
  execFileSync(cc, ['-O2', '-Wall', '-Werror', ...extra, '-o', out, ...sources], { stdio: 'inherit' });
};
build(join(dist, 'worldinit'), [join(root, 'src', 'ns', 'worldinit.c')], []);
const relay = [join(root, 'src', 'ns', 'relay.h')];
build(join(dist, 'worldshim'), [join(root, 'src', 'ns', 'worldshim.c')], ['-static'], relay);
build(join(dist, 'worldrun'), [join(root, 'src', 'ns', 'worldrun.c')], ['-static'], relay);
build(join(dist, 'worldkeep'), [join(root, 'src', 'host', 'worldkeep.c')], []);
const link = join(dist, 'worldctl');
let linked = false;
try { linked = lstatSync(link).isSymbolicLink(); } catch { /* none yet */ }
if (!linked) {
  rmSync(link, { force: true });
  symlinkSync('worldrun', link);
}
build(join(dist, 'syscalls.node'), ['syscalls.c', 'fanotify.c', 'fanotify-events.c', 'fuse-passthrough.c', 'inotify.c'].map((c) => join(root, 'src', 'host', c)),
  ['-shared', '-fPIC', `-I${headers}`, '-DNODE_GYP_MODULE_NAME=syscalls', '-pthread'], hostHeaders);
