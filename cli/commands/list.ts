import type { Command } from 'commander';
import type { Ctx } from '../context.js';
import { renderDot, renderTree } from '../render/tree.js';

export function register(program: Command, ctx: Ctx): void {
  program.command('list')
    .description('list all worlds')
    .summary('list all worlds')
    .option('--json', 'machine-readable output (parents by id and by name, process counts)')
    .option('--names', 'only the names, one a line (for scripts and shell completion)')
    .action(async (opts: { json?: boolean; names?: boolean }) => {
      // --names is what completion runs at every <Tab>: no recovery, no process scan.
      if (opts.names) return ctx.io.stdout(ctx.worlds().registry().worlds.map((w) => `${w.name}\n`).join(''));
      await ctx.worlds().recover();
      const worlds = ctx.worlds().list();
      const procs = ctx.worlds().processCounts();
      const name = (id: string) => worlds.find((w) => w.id === id)?.name ?? id;
      if (opts.json) {
        const out = worlds.map((w) => ({ ...w, parentNames: w.parents.map(name), processes: procs.get(w.id) ?? 0 }));
        return ctx.io.stdout(JSON.stringify(out, null, 2) + '\n');
      }
      const rows = [['NAME', 'ID', 'PARENTS', 'STATE', 'PROCS', 'CREATED', 'MOUNTED AT'],
        ...worlds.map((w) => [w.name, w.id, w.parents.map(name).join(',') || '-', w.state, String(procs.get(w.id) ?? 0), w.created, w.mountpoint ?? '-'])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => [...r[i]!].length)));
      rows.forEach((r, i) => {
        ctx.io.stdout(r.map((c, i) => c + ' '.repeat(widths[i]! - [...c].length)).join('  ').trimEnd() + '\n');
        // Views of worlds merged into it, still mounted: one line each under the world (umount clears them).
        for (const a of (i > 0 ? worlds[i - 1]!.aliases : undefined) ?? []) ctx.io.stdout(`  also mounted at ${a.mountpoint} (alias of a merged world's view${a.live ? '' : '; its daemon died'})\n`);
      });
    });
  program.command('tree')
    .description('draw the world graph (a DAG: a world with several parents is drawn under its first one)')
    .summary('draw the world graph')
    .option('--json', 'machine-readable output')
    .option('--dot', 'Graphviz dot output')
    .action(async (opts: { json?: boolean; dot?: boolean }) => {
      await ctx.worlds().recover();
      const worlds = ctx.worlds().list();
      if (opts.json) {
        return ctx.io.stdout(JSON.stringify(worlds.map((w) => ({ id: w.id, name: w.name, parents: w.parents, state: w.state })), null, 2) + '\n');
      }
      ctx.io.stdout(opts.dot ? renderDot(worlds) : renderTree(worlds));
    });
}
