// worldctl shell: an interactive login shell in a world, on top of `run` (which enters the world's
// running init, as `docker exec` enters a running container, starting the world first if needed).
import type { Command } from 'commander';
import type { Ctx } from '../context.js';

/**
 * Run by the world's /bin/sh: what login(1) does before a shell, in a few lines. The account's
 * shell may be missing from the world (a base without bash): say so and fall back to /bin/sh.
 */
const LOGIN = 'cd "$2" 2>/dev/null || cd /; if [ -x "$1" ]; then exec "$1" -l; fi; ' +
  'echo "worldctl shell: $1 (the login shell in /etc/passwd) is not in this world; starting /bin/sh" >&2; exec /bin/sh -l';

export function register(program: Command, ctx: Ctx): void {
  program.command('shell')
    .description('start an interactive login shell in a world (its root\'s shell from the world\'s /etc/passwd, else /bin/sh)')
    .summary('an interactive login shell in a world')
    .argument('<name>', 'the world')
    .option('-e, --env <K=V>', 'environment variable (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (name: string, opts: { env: string[] }) => {
      const acct = ctx.worlds().loginAccount(name);
      const env: Record<string, string> = { HOME: acct.home, SHELL: acct.shell, USER: acct.name, LOGNAME: acct.name };
      for (const kv of opts.env) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw Object.assign(new Error(`--env ${kv}: expected K=V`), { usage: true });
        env[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      const command = ['/bin/sh', '-c', LOGIN, 'worldctl-shell', acct.shell, acct.home];
      ctx.setExitCode(await ctx.worlds().run(name, { command, detach: false, cwd: '/', env }));
    });
}
