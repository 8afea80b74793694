// worldctl gc [--dry-run]: tidy a store after a crash (src/worlds/gc.ts) and say what was removed.
import type { Command } from 'commander';
import type { Ctx } from '../context.js';

export function register(program: Command, ctx: Ctx): void {
  program.command('gc')
    .description('remove what no world owns: dead mounts, empty mount directories, stale stack files, finished journals, orphan layers, run tickets of gone worlds')
    .summary('remove what no world owns (after a crash)')
    .option('--dry-run', 'only say what would be removed')
    .option('--json', 'machine-readable output')
    .action(async (opts: { dryRun?: boolean; json?: boolean }) => {
      const found = await ctx.worlds().gc(opts.dryRun === true);
      if (opts.json) return ctx.io.stdout(JSON.stringify(found.map((g) => ({ ...g, removed: !opts.dryRun && !g.keptBecause })), null, 2) + '\n');
      for (const g of found) {
        if (g.keptBecause) ctx.io.stdout(`kept ${g.kind} ${g.path}: ${g.keptBecause}\n`);
        else ctx.io.stdout(`${opts.dryRun ? 'would remove' : 'removed'} ${g.kind} ${g.path} (${g.why})\n`);
      }
      if (found.length === 0) ctx.io.stdout('nothing to remove\n');
    });
}
