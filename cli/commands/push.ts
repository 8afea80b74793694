// worldctl push / pull: worlds through an OCI registry, with skopeo as the client (docs/oci.md).
import type { Command } from 'commander';
import type { Ctx } from '../context.js';

function tls(v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true' || v === 'false') return v === 'true';
  throw Object.assign(new Error(`--tls-verify takes true or false, not ${JSON.stringify(v)}`), { usage: true });
}

export function register(program: Command, ctx: Ctx): void {
  program.command('push')
    .description('push a world and its ancestors (one layer each; the base only with --with-base) to an OCI registry')
    .summary('push a world and its ancestors to a registry')
    .argument('<name>', 'the world')
    .argument('<ref>', 'HOST[:PORT]/REPO[:TAG], or any skopeo destination (docker://..., oci:DIR:TAG)')
    .option('--tls-verify <bool>', 'false for a plain-HTTP registry (e.g. one on 127.0.0.1)')
    .option('--with-base', 'export the base world\'s tree as the bottom layer too')
    .action(async (name: string, ref: string, opts: { tlsVerify?: string; withBase?: boolean }) => {
      const img = await ctx.worlds().push(name, ref, { tlsVerify: tls(opts.tlsVerify), withBase: opts.withBase === true });
      ctx.io.stdout(`pushed ${name} (${img.layers.length} layer${img.layers.length === 1 ? '' : 's'}) to ${ref}\n`);
    });
  program.command('pull')
    .description('pull an image from an OCI registry into new worlds, one per layer')
    .summary('pull an image from a registry into new worlds')
    .argument('<ref>', 'HOST[:PORT]/REPO[:TAG], or any skopeo source')
    .option('--name <name>', 'the new (top) world\'s name (default: the repository\'s last component)')
    .option('--from <parent>', 'a parent of the new (bottom) world (repeatable; default: the base)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--tls-verify <bool>', 'false for a plain-HTTP registry')
    .action(async (ref: string, opts: { name?: string; from: string[]; tlsVerify?: string }) => {
      const made = await ctx.worlds().pull(ref, { name: opts.name, from: opts.from, tlsVerify: tls(opts.tlsVerify) });
      for (const w of made) ctx.io.stdout(`imported world "${w.name}" (${w.id})\n`);
    });
}
