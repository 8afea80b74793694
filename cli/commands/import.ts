// worldctl import: an OCI layer tar (FILE) or image layout (DIR) as new worlds (docs/oci.md).
import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import type { Ctx } from '../context.js';

export function register(program: Command, ctx: Ctx): void {
  program.command('import')
    .description('make new worlds from an OCI layer tar (one world) or an OCI image layout (one world per layer); all or nothing')
    .summary('new worlds from an OCI layer tar or image')
    .argument('<source>', 'a layer tar (plain or gzip) or an image layout directory')
    .option('--name <name>', 'the new (top) world\'s name (default: the image\'s world, or the file\'s name)')
    .option('--from <parent>', 'a parent of the new (bottom) world, highest priority first (repeatable; default: the base)', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--tag <tag>', 'for an image layout with several images: which one')
    .action(async (source: string, opts: { name?: string; from: string[]; tag?: string }) => {
      const isImage = existsSync(source) && statSync(source).isDirectory() && existsSync(join(source, 'index.json'));
      const made = isImage
        ? await ctx.worlds().importImage(source, { name: opts.name, from: opts.from, tag: opts.tag })
        : await ctx.worlds().importLayer(source, opts.name ?? basename(source).replace(/\.(tar(\.gz)?|tgz)$/, ''), opts.from);
      for (const w of made) ctx.io.stdout(`imported world "${w.name}" (${w.id})\n`);
    });
}
