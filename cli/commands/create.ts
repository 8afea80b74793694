import { InvalidArgumentError, Option, type Command } from 'commander';
import { NODE_BUDGET_RANGE, nodeBudgetOf } from '../../src/core/node-budget.js';
import type { Ctx } from '../context.js';

export function register(program: Command, ctx: Ctx): void {
  program.command('create')
    .description('create a world from one or several parents (default: the base); copies nothing')
    .summary('create a world over one or several parents')
    .argument('<name>', 'the new world\'s name')
    .option('--from <parent>', 'a parent world, highest priority first (repeatable)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--nosuid', 'mount the world nosuid,nodev: setuid programs and device nodes in it lose their power (inherited by its children; as root the default is suid,dev, as on the host)')
    .addOption(new Option('--open <who>', 'who opens the world\'s files: the kernel itself (no request per open: fast for everyday commands) or its daemon (every open a request; file data by passthrough: faster for worlds that write much, such as tar -x); not inherited').choices(['kernel', 'daemon']).default('kernel'))
    .addOption(new Option('--nodes <n>', 'its daemon\'s node budget: past n inodes cached by the kernel, the coldest unused ones are dropped (worldfs nodes=; default 131072, 0 for no bound); not inherited').argParser(nodeBudget))
    .option('--json', 'machine-readable output: the new world\'s name, id and parents')
    .action(async (name: string, opts: { from: string[]; nosuid?: boolean; open: 'kernel' | 'daemon'; nodes?: number; json?: boolean }) => {
      const w = await ctx.worlds().create(name, opts.from, { nosuid: opts.nosuid === true, open: opts.open, ...(opts.nodes !== undefined ? { nodes: opts.nodes } : {}) });
      if (!opts.json) return ctx.io.stdout(`created world "${w.name}" (${w.id})\n`);
      const reg = ctx.worlds().registry();
      const parents = w.parents.map((id) => ({ id, name: reg.worlds.find((p) => p.id === id)?.name ?? id }));
      ctx.io.stdout(JSON.stringify({ created: { name: w.name, id: w.id, parents, nosuid: w.nosuid === true, open: w.openByDaemon ? 'daemon' : 'kernel' } }, null, 2) + '\n');
    });
}

/** --nodes: a budget worldfs takes (src/core/node-budget.ts, the rule worldfs and worlds.xml share). */
function nodeBudget(v: string): number {
  const n = nodeBudgetOf(v);
  if (n === undefined) throw new InvalidArgumentError(`expected ${NODE_BUDGET_RANGE}.`);
  return n;
}
