import type { Command } from 'commander';
import { passesFilters } from '../../src/core/content-diff.js';
import type { Ctx } from '../context.js';
import { deadViewLine } from '../render/dead-view.js';
import { pathText } from '../render/path-text.js';
import { filtersOf } from './diff.js';

const MARK = { added: 'A', modified: 'M', deleted: 'D' } as const;

export function register(program: Command, ctx: Ctx): void {
  program.command('ls')
    .description('list a world\'s contents: files it changed (added, modified, deleted) and its processes')
    .summary('what a world changed (A/M/D), and its processes')
    .argument('<name>', 'the world')
    .argument('[path...]', 'only changes at these paths and under them (relative ones start at the world\'s root)')
    .option('--json', 'machine-readable output')
    .action(async (name: string, paths: string[], opts: { json?: boolean }) => {
      const filters = filtersOf(paths);
      const all = await ctx.worlds().contents(name);
      const c = { ...all, changes: all.changes.filter((ch) => passesFilters(ch.path, filters)) };
      if (opts.json) {
        ctx.io.stdout(JSON.stringify({
          world: c.world, mountpoint: c.mountpoint ?? null, deadMount: c.deadMount ?? null, deadViewUsers: c.deadViewUsers ?? null, changes: c.changes, processes: c.processes,
        }, null, 2) + '\n');
        return;
      }
      const reg = ctx.worlds().registry();
      const parents = c.world.parents.map((p) => reg.worlds.find((w) => w.id === p)?.name ?? p);
      ctx.io.stdout(`world ${c.world.name} (${c.world.id})${parents.length ? `, from ${parents.join(', ')}` : ''}${c.mountpoint ? `, mounted at ${c.mountpoint}` : ''}\n`);
      if (c.deadViewUsers) ctx.io.stdout(deadViewLine(c.world.name, c.deadMount, c.deadViewUsers));
      ctx.io.stdout(c.changes.length === 0 ? `files: no changes${filters.length > 0 ? ` at ${filters.join(', ')}` : ''}\n` : 'files:\n');
      for (const ch of c.changes) {
        ctx.io.stdout(`  ${MARK[ch.change]} ${pathText(ch.path)}${ch.type === 'dir' ? '/' : ''}${ch.from ? `  (renamed from ${pathText(ch.from)})` : ''}\n`);
      }
      ctx.io.stdout(c.processes.length === 0 ? 'processes: none\n' : 'processes:\n');
      for (const p of c.processes) ctx.io.stdout(`  ${p.pid}\t${p.nspid}\t${p.state}\t${p.command}\n`);
    });
}
