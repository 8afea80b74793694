// worldctl ps: the processes of one world, or (--all) of every world with a WORLD column.
import type { Command } from 'commander';
import type { ProcessInfo } from '../../src/worlds/contents.js';
import type { Ctx } from '../context.js';

type Row = ProcessInfo & { readonly world?: string };

function table(rows: readonly Row[], withWorld: boolean): string {
  const head = ['HOST PID', 'PID', 'STATE', 'COMMAND'];
  const cells = (p: Row) => [String(p.pid), String(p.nspid), p.state.split(' ')[0]!, p.command];
  const all = [withWorld ? ['WORLD', ...head] : head, ...rows.map((p) => (withWorld ? [p.world!, ...cells(p)] : cells(p)))];
  const widths = all[0]!.map((_, i) => Math.max(...all.map((r) => [...r[i]!].length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i]! - [...c].length))).join('  ') + '\n').join('');
}

export function register(program: Command, ctx: Ctx): void {
  program.command('ps')
    .description('list the processes of a world (or of every world): host pid, pid inside the world, state, command')
    .summary('the processes of a world, or of every world')
    .argument('[name]', 'the world (omit with --all)')
    .option('-a, --all', 'every world\'s processes, with a WORLD column')
    .option('--json', 'machine-readable output')
    .action(async (name: string | undefined, opts: { all?: boolean; json?: boolean }) => {
      if ((name === undefined) === (opts.all !== true)) {
        throw Object.assign(new Error(name === undefined ? 'ps: name a world, or pass --all' : 'ps: a world name and --all exclude each other'), { usage: true });
      }
      let rows: Row[];
      if (name !== undefined) {
        rows = await ctx.worlds().ps(name);
      } else {
        await ctx.worlds().recover();
        rows = [];
        for (const w of ctx.worlds().registry().worlds) {
          if (w.base || w.state === 'deleting') continue;
          for (const p of await ctx.worlds().ps(w.name)) rows.push({ world: w.name, ...p });
        }
      }
      if (opts.json) return ctx.io.stdout(JSON.stringify(rows, null, 2) + '\n');
      ctx.io.stdout(table(rows, name === undefined));
    });
}
