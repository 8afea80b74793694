// worldctl completion bash: print the shell completion script, generated from the program.
import { Argument, type Command } from 'commander';
import { bashCompletion } from '../completion-bash.js';
import type { Ctx } from '../context.js';

export function register(program: Command, ctx: Ctx): void {
  program.command('completion')
    .description('print a completion script for the shell (bash): source it, or save it in /etc/bash_completion.d/worldctl')
    .summary('print a shell completion script (bash)')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash']))
    .action(() => {
      ctx.io.stdout(bashCompletion(program));
    });
}
