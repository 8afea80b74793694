// Post-install step: compile the project's three small C pieces with the machine's C compiler
// (present wherever npm builds addons) into dist/:
//   dist/worldinit     PID 1 of every world (src/ns/worldinit.c)
//   dist/worldshim     the parent of a command in a world, exec'd by nsenter (src/ns/worldshim.c);
//                      static, so its exec inside a world loads nothing through the world's view
//   dist/syscalls.node utimensat / mknod / renameat2 / fanotify / FUSE passthrough ioctls for worldfs (src/host/syscalls.c,
//                      src/host/fanotify.c and fanotify-events.c, with a reader thread: -pthread), against
//                      Node's own headers (npm's nodedir, else next to the node binary)
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
mkdirSync(dist, { recursive: true });
const cc = process.env.CC || 'cc';
const headers = [process.env.npm_config_nodedir && join(process.env.npm_config_nodedir, 'include', 'node'),
  join(dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) => d && existsSync(join(d, 'node_api.h')));
if (!headers) throw new Error("Node's headers (node_api.h) were not found; set npm_config_nodedir");
const run = (args) => execFileSync(cc, args, { stdio: 'inherit' });
run(['-O2', '-Wall', '-Werror', '-o', join(dist, 'worldinit'), join(root, 'src', 'ns', 'worldinit.c')]);
run(['-O2', '-Wall', '-Werror', '-static', '-o', join(dist, 'worldshim'), join(root, 'src', 'ns', 'worldshim.c')]);
run(['-O2', '-Wall', '-Werror', '-shared', '-fPIC', `-I${headers}`, '-DNODE_GYP_MODULE_NAME=syscalls',
  '-pthread', '-o', join(dist, 'syscalls.node'), join(root, 'src', 'host', 'syscalls.c'), join(root, 'src', 'host', 'fanotify.c'), join(root, 'src', 'host', 'fanotify-events.c'),
  join(root, 'src', 'host', 'fuse-passthrough.c')]);
