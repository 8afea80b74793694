import type { Command } from 'commander';
import type { Ctx } from '../context.js';

export function register(program: Command, ctx: Ctx): void {
  program.command('init')
    .description('create the world store with its base world (the read-only bottom of every world)')
    .summary('create the store and its base world')
    .option('--base <dir>', 'directory every world starts from', '/')
    .option('--whiteout <format>', 'whiteout format of the store: aufs, overlay or overlay-user', 'aufs')
    .action((opts: { base: string; whiteout: string }) => {
      const base = ctx.worlds().init(opts.base, opts.whiteout);
      ctx.io.stdout(`initialised ${ctx.home()} with base world "${base.name}" = ${base.layer}\n`);
    });
}
