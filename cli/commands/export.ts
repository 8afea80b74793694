// worldctl export: a world's own layer as an OCI layer tar (-o FILE, or stdout), or with --image DIR
// the world and its ancestors as an OCI image layout (docs/oci.md).
import type { Command } from 'commander';
import type { Ctx } from '../context.js';

export function register(program: Command, ctx: Ctx): void {
  program.command('export')
    .description('write a world\'s own layer as an OCI layer tar, or (--image) the world and its ancestors as an OCI image layout')
    .summary('a world as an OCI layer tar or image layout')
    .argument('<name>', 'the world')
    .option('-o, --output <file>', 'the layer tar to write (default: stdout, unless it is a terminal)')
    .option('--image <dir>', 'write an OCI image layout there instead: one layer per world, bottom first (C3 order)')
    .option('--with-base', 'with --image: export the base world\'s tree as the bottom layer too')
    .option('--tag <tag>', 'with --image: the tag in index.json', 'latest')
    .action(async (name: string, opts: { output?: string; image?: string; withBase?: boolean; tag: string }) => {
      if (opts.image !== undefined) {
        if (opts.output !== undefined) throw Object.assign(new Error('--image and -o exclude each other'), { usage: true });
        const img = await ctx.worlds().exportImage(name, opts.image, { withBase: opts.withBase === true, tag: opts.tag });
        ctx.io.stderr(`exported ${img.layers.length} layer${img.layers.length === 1 ? '' : 's'} (${img.layers.map((l) => l.world).join(' <- ')}) to ${opts.image}, manifest ${img.manifest}\n`);
        return;
      }
      if (opts.output === undefined) {
        if (process.stdout.isTTY) throw Object.assign(new Error('refusing to write a tar to a terminal; pass -o FILE or redirect stdout'), { usage: true });
        await ctx.worlds().exportLayer(name, process.stdout);
        return;
      }
      const s = await ctx.worlds().exportLayer(name, opts.output);
      ctx.io.stderr(`exported ${s.entries} entries (${s.whiteouts} whiteouts, ${s.dataBytes} bytes of data) to ${opts.output}\n`);
    });
}
