// worldctl: the command line for worlds. buildProgram has no side effects; run() maps every
// outcome to a documented exit code exactly once.
import { Command, CommanderError, Option, type Argument } from 'commander';
import { isWorldError, type WorldErrorCode } from '../src/core/world-error.js';
import { defaultHome } from '../src/worlds/layout.js';
import { Worlds } from '../src/worlds.js';
import { EXIT, type CliIo } from './io.js';
import { terminalProgress } from './progress.js';
import type { Ctx } from './context.js';
import * as create from './commands/create.js';
import * as del from './commands/delete.js';
import * as init from './commands/init.js';
import * as list from './commands/list.js';
import * as ls from './commands/ls.js';
import * as merge from './commands/merge.js';
import * as mount from './commands/mount.js';
import * as runCmd from './commands/run.js';
import * as exportCmd from './commands/export.js';
import * as importCmd from './commands/import.js';
import * as push from './commands/push.js';
import * as revive from './commands/revive.js';
import * as diff from './commands/diff.js';
import * as ps from './commands/ps.js';
import * as shell from './commands/shell.js';
import * as completion from './commands/completion.js';
import { version } from './version.js';
import * as logs from './commands/logs.js';
import * as gc from './commands/gc.js';

const EXIT_BY_CODE: Partial<Record<WorldErrorCode, number>> = {
  BAD_NAME: EXIT.usage, CONFLICT: EXIT.conflict, BUSY: EXIT.busy, LOCKED: EXIT.busy, NO_SUCH_WORLD: EXIT.notFound,
};

/** <name>, [name], <name...> as commander writes arguments in usages. */
function argTerm(a: Argument): string {
  const n = a.name() + (a.variadic ? '...' : '');
  return a.required ? `<${n}>` : `[${n}]`;
}

export function buildProgram(io: CliIo, exit: { code: number } = { code: EXIT.ok }): Command {
  const program = new Command('worldctl');
  let worlds: Worlds | undefined;
  const ctx: Ctx = {
    io,
    home: () => program.opts<{ home?: string }>().home ?? defaultHome(io.env),
    worlds: () => (worlds ??= new Worlds(ctx.home(), io.stderrIsTTY ? { progress: terminalProgress(io.stderr) } : {})),
    setExitCode: (code) => { exit.code = code; },
  };
  program
    .description('worlds: copy-on-write containers of files and processes')
    .option('--home <dir>', 'the world store (default: $WORLDOS_HOME, /var/lib/worldos as root, else $XDG_DATA_HOME/worldos)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    // The command list: one line per command (its summary), its arguments but not "[options]".
    .configureHelp({ subcommandTerm: (c) => [c.name(), ...c.registeredArguments.map(argTerm)].join(' ') })
    .showHelpAfterError('(run worldctl --help for usage)');
  // Commander's .version() wants the string now; --version prints it only when asked (cli/version.ts).
  program.addOption(new Option('-V, --version', 'print worldctl\'s version and exit'))
    .on('option:version', () => {
      io.stdout(`${version()}\n`);
      throw new CommanderError(0, 'commander.version', version());
    });
  for (const m of [init, create, del, merge, ls, diff, list, mount, runCmd, shell, ps, exportCmd, importCmd, push, revive, logs, gc, completion]) m.register(program, ctx);
  for (const c of program.commands) c.exitOverride();
  return program;
}

/** Run worldctl with `argv` (without node and script); resolves to the exit code. */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const exit = { code: EXIT.ok as number };
  const program = buildProgram(io, exit);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exit.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return EXIT.ok;
      return EXIT.usage;
    }
    if ((e as { usage?: boolean })?.usage) {
      io.stderr(`worldctl: ${(e as Error).message}\n`);
      return EXIT.usage;
    }
    if (isWorldError(e)) {
      io.stderr(`worldctl: ${e.message}\n`);
      if (e.hint) io.stderr(`hint: ${e.hint}\n`);
      return EXIT_BY_CODE[e.code] ?? EXIT.error;
    }
    io.stderr(`worldctl: unexpected error: ${(e as Error)?.stack ?? String(e)}\n`);
    return EXIT.error;
  }
}
