// worldctl logs NAME [-f]: what a world's detached processes printed (not its daemon's messages).
import type { Command } from 'commander';
import type { Ctx } from '../context.js';

export function register(program: Command, ctx: Ctx): void {
  program.command('logs')
    .description('print what the world\'s detached processes wrote (with the output of worlds merged into it)')
    .summary('what a world\'s detached processes printed')
    .argument('<name>', 'the world')
    .option('-f, --follow', 'keep printing new output until Ctrl-C; ends when the world is deleted or merged')
    .action(async (name: string, opts: { follow?: boolean }) => {
      if (!opts.follow) return ctx.io.stdout(await ctx.worlds().logs(name));
      const why = await ctx.worlds().followLogs(name, ctx.io.stdout);
      if (why === 'gone') ctx.io.stderr(`worldctl: world ${JSON.stringify(name)} is gone (deleted or merged); stopped following\n`);
    });
}
