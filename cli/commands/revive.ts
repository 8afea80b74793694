// revive: bring back a world whose daemon died, ending only the processes that used the dead view.
import type { Command } from 'commander';
import type { Ctx } from '../context.js';

export function register(program: Command, ctx: Ctx): void {
  program.command('revive')
    .description('bring back a world whose daemon died: end only the processes that use the dead view (SIGTERM, SIGKILL after 5 s), mount it again')
    .summary('bring back a world whose daemon died')
    .argument('<name>', 'the world')
    .action(async (name: string) => {
      const r = await ctx.worlds().revive(name);
      for (const p of r.ended) ctx.io.stdout(`ended ${p.pid} (${p.use} on the dead view): ${p.command}\n`);
      ctx.io.stdout(`revived world "${name}": ${r.ended.length} process(es) ended, ${r.spared} kept running` +
        `${r.initRetired ? ' (its old init kept for them; the next run starts a new one)' : ''}` +
        `${r.mountpoint ? `; view mounted again at ${r.mountpoint}` : ''}\n`);
    });
}
