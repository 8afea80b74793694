import type { Command } from 'commander';
import type { Ctx } from '../context.js';

export function register(program: Command, ctx: Ctx): void {
  program.command('delete')
    .description('unmount a world and remove its files (refuses worlds with children unless --recursive)')
    .summary('delete a world (-r: and its descendants)')
    .argument('<name>', 'the world to delete')
    .option('-r, --recursive', 'also delete every world descending from it')
    .option('--json', 'machine-readable output: the deleted worlds\' names and ids, and the processes ended')
    .action(async (name: string, opts: { recursive?: boolean; json?: boolean }) => {
      const r = await ctx.worlds().delete(name, opts.recursive === true);
      if (opts.json) return ctx.io.stdout(JSON.stringify({ deleted: r.worlds, processes: r.processes }, null, 2) + '\n');
      const n = r.worlds.length;
      ctx.io.stdout(`deleted ${n} world${n === 1 ? '' : 's'}\n`);
    });
}
