import type { Command } from 'commander';
import type { Ctx } from '../context.js';
import { EXIT } from '../io.js';

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
    .description('stop serving a world\'s view, and the views of worlds merged into it that no process uses')
    .summary('stop serving a world\'s view and its unused aliases')
    .argument('<name>', 'the world')
    .action(async (name: string) => {
      const r = await ctx.worlds().umount(name);
      for (const where of r.unmounted) ctx.io.stdout(`unmounted ${where}\n`);
      for (const b of r.busy) {
        ctx.io.stderr(`worldctl: kept ${b.mountpoint}: in use by ` +
          (b.users.map((u) => `pid ${u.pid} (${u.command.slice(0, 60)}; its ${u.uses})`).join(', ') || `the world's processes`) + '\n');
      }
      if (r.busy.length > 0) {
        ctx.io.stderr(`hint: end those processes (worldctl stop ${JSON.stringify(name)} ends the world's own), then umount again\n`);
        ctx.setExitCode(EXIT.busy);
      }
    });
}
