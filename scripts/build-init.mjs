// Post-install step: compile worldinit (src/ns/worldinit.c), the PID 1 of every world, with the
// machine's C compiler into dist/worldinit. Needs only gcc/cc, present wherever npm builds addons.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'dist'), { recursive: true });
const cc = process.env.CC || 'cc';
execFileSync(cc, ['-O2', '-Wall', '-Werror', '-o', join(root, 'dist', 'worldinit'), join(root, 'src', 'ns', 'worldinit.c')], { stdio: 'inherit' });
