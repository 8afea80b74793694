import type { Command } from 'commander';
import type { Ctx } from '../context.js';

export function register(program: Command, ctx: Ctx): void {
  program.command('delete')
    .description('unmount a world and remove its files (refuses worlds with children unless --recursive)')
    .argument('<name>', 'the world to delete')
    .option('-r, --recursive', 'also delete every world descending from it')
    .action(async (name: string, opts: { recursive?: boolean }) => {
      const ids = await ctx.worlds().delete(name, opts.recursive === true);
      ctx.io.stdout(`deleted ${ids.length} world${ids.length === 1 ? '' : 's'}\n`);
    });
}
