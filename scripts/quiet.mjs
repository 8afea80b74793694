// Run a command and show its output only if it fails (npm run demo: the build's own chatter — npm's
// banners, tsc, esbuild — would otherwise come before the demo). Exits with the command's code.
import { spawnSync } from 'node:child_process';

const [cmd, ...args] = process.argv.slice(2);
if (!cmd) {
  console.error('usage: node scripts/quiet.mjs CMD [ARGS...]');
  process.exit(2);
}
const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 });
if (r.error) {
  console.error(`${cmd}: ${r.error.message}`);
  process.exit(1);
}
if (r.status !== 0) {
  process.stdout.write(r.stdout);
  process.stderr.write(r.stderr);
  console.error(`\n${[cmd, ...args].join(' ')} failed (exit ${r.status ?? r.signal})`);
  process.exit(r.status ?? 1);
}
