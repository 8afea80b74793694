import { Option, type Command } from 'commander';
import { MERGE_POLICIES } from '../../src/core/merge/policy.js';
import type { Ctx } from '../context.js';

export function register(program: Command, ctx: Ctx): void {
  program.command('merge')
    .description('fold a world\'s changes, and those of every world between, into an ancestor; the merged worlds are then gone')
    .summary('fold a world\'s changes into an ancestor')
    .argument('<name>', 'the child world')
    .requiredOption('--into <ancestor>', 'the ancestor that receives the changes')
    .addOption(new Option('--on-conflict <policy>', 'what to do with paths the ancestor changed too').choices([...MERGE_POLICIES.keys()]).default('fail'))
    .option('--json', 'machine-readable output: the merged worlds, conflicts, re-parented worlds, counts of files and processes moved')
    .action(async (name: string, opts: { into: string; onConflict: string; json?: boolean }) => {
      const r = await ctx.worlds().merge(name, opts.into, opts.onConflict);
      if (opts.json) {
        return ctx.io.stdout(JSON.stringify({
          merged: r.merged, into: r.into, files: r.files, processes: r.processes,
          conflicts: r.conflicts.map((c) => ({ path: c.path, world: c.world })), policy: opts.onConflict, reparented: r.reparented,
        }, null, 2) + '\n');
      }
      ctx.io.stdout(`merged ${r.merged.map((m) => `"${m}"`).join(', ')} into "${r.into}"\n`);
      if (r.conflicts.length > 0) {
        ctx.io.stdout(`${r.conflicts.length} conflict(s) resolved by --on-conflict ${opts.onConflict}:\n`);
        for (const c of r.conflicts) ctx.io.stdout(`  ${c.path}\n`);
      }
      if (r.reparented.length > 0) ctx.io.stdout(`re-parented onto "${r.into}": ${r.reparented.map((m) => `"${m}"`).join(', ')}\n`);
    });
}
