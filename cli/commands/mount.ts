import type { Command } from 'commander';
import type { Ctx } from '../context.js';

export function register(program: Command, ctx: Ctx): void {
  program.command('mount')
    .description('serve a world\'s view at a directory (no container)')
    .summary('serve a world\'s view at a directory')
    .argument('<name>', 'the world')
    .option('--at <dir>', 'where to mount (default: the world\'s mnt directory in the store)')
    .action(async (name: string, opts: { at?: string }) => {
      const where = await ctx.worlds().mount(name, opts.at);
      ctx.io.stdout(`${where}\n`);
    });
  program.command('umount')
    .description('stop serving a world\'s view')
    .summary('stop serving a world\'s view')
    .argument('<name>', 'the world')
    .action(async (name: string) => {
      const where = await ctx.worlds().umount(name);
      ctx.io.stdout(`unmounted ${where}\n`);
    });
}
