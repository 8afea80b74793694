// worldctl diff: what a world changed, as content. Text files as unified diffs against what its
// parents show (a/PATH, b/PATH: `patch -p1` applies them in a root); everything a text diff cannot
// show (binary data, symlinks, special files, directories, modes) as one line each.
import type { Command } from 'commander';
import { pathFilters } from '../../src/core/content-diff.js';
import { unifiedDiff } from '../../src/host/unified-diff.js';
import type { Ctx } from '../context.js';

/** Paths as typed, or a usage error naming the bad one. */
export function filtersOf(raw: readonly string[]) {
  try {
    return pathFilters(raw);
  } catch (e) {
    throw Object.assign(new Error(`${(e as Error).message}; expected paths inside the world, such as /etc`), { usage: true });
  }
}

export function register(program: Command, ctx: Ctx): void {
  program.command('diff')
    .description('show the content of what a world changed: unified diffs of text files, one line for anything else')
    .summary('the content of what a world changed (diff -u)')
    .argument('<name>', 'the world')
    .argument('[path...]', 'only these paths and what lies under them (relative ones start at the world\'s root)')
    .action(async (name: string, paths: string[]) => {
      const items = await ctx.worlds().diff(name, filtersOf(paths));
      let noted: string | undefined; // the path the last summary line was about
      for (const item of items) {
        if (item.kind === 'note') {
          ctx.io.stdout(`${item.line}\n`);
          noted = item.path;
          continue;
        }
        const text = await unifiedDiff(item.path, item.before, item.after);
        // Same bytes: copied up for a chown, touch or xattr (a chmod has its line already).
        if (text === '' && item.before !== undefined && item.after !== undefined && noted !== item.path) ctx.io.stdout(`metadata of ${item.path} changed (owner, times or extended attributes)\n`);
        ctx.io.stdout(text);
      }
    });
}
