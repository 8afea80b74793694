import type { Command } from 'commander';
import type { Ctx } from '../context.js';

export function register(program: Command, ctx: Ctx): void {
  program.command('run')
    .description('run a command inside a world (its own PID, mount, UTS and IPC namespaces; root = its view)')
    .summary('run a command in a world (as docker exec)')
    .argument('<name>', 'the world')
    .argument('<command...>', 'the command and its arguments (after --)')
    .option('-d, --detach', 'return at once and leave the command running in the world')
    .option('--cwd <dir>', 'working directory inside the world', '/')
    .option('-e, --env <K=V>', 'environment variable (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .action(async (name: string, command: string[], opts: { detach?: boolean; cwd: string; env: string[] }) => {
      const env: Record<string, string> = {};
      for (const kv of opts.env) {
        const eq = kv.indexOf('=');
        if (eq <= 0) throw Object.assign(new Error(`--env ${kv}: expected K=V`), { usage: true });
        env[kv.slice(0, eq)] = kv.slice(eq + 1);
      }
      const result = await ctx.worlds().run(name, { command, detach: opts.detach === true, cwd: opts.cwd, env });
      if (opts.detach) ctx.io.stdout(`started in world "${name}" (launcher pid ${result})\n`);
      else ctx.setExitCode(result);
    });
  program.command('stop')
    .description('end a world\'s processes (SIGTERM, SIGKILL after 5 s) and its view, keeping its files')
    .summary('end a world\'s processes and view; keep its files')
    .argument('<name>', 'the world')
    .action(async (name: string) => {
      const r = await ctx.worlds().stop(name);
      ctx.io.stdout(`stopped world "${name}" (${r.processes} process${r.processes === 1 ? '' : 'es'}); its files are kept\n`);
    });
}
