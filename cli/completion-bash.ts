// Bash completion for worldctl, generated from the commander program itself (so it cannot drift
// from the commands): command names, each command's options, option values (choices, world
// names, directories, files) and world names for arguments naming an existing world. World
// names come from `worldctl list --names` on the store the command line names (--home).
import type { Argument, Command, Option } from 'commander';

/** What a value on the command line is, for completion. */
type ValueKind = 'world' | 'dir' | 'file' | 'none';

/** An option's value by its placeholder (<parent>, <dir>, ...). */
function optionValueKind(o: Option): ValueKind {
  const ph = /<(\w+)>/.exec(o.flags)?.[1] ?? '';
  if (['parent', 'ancestor', 'world'].includes(ph)) return 'world';
  if (ph === 'dir') return 'dir';
  if (ph === 'file') return 'file';
  return 'none';
}

/** A positional argument: <name> names an existing world unless it is a new one ("the new ..."). */
function argumentKind(a: Argument): ValueKind {
  if (a.name() === 'name' && !/\bnew\b/.test(a.description)) return 'world';
  if (a.name() === 'source' || a.name() === 'file') return 'file';
  return 'none';
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const words = (xs: readonly string[]) => q(xs.join(' '));

function flagsOf(options: readonly Option[]): string[] {
  const out: string[] = [];
  for (const o of options) {
    if (o.hidden) continue;
    if (o.long) out.push(o.long);
    if (o.short) out.push(o.short);
  }
  return [...out, '--help'];
}

function takesValue(o: Option): boolean {
  return o.required || o.optional;
}

/** `complete` lines for the values of one command's options ("case $prev in ... esac" arms). */
function valueArms(options: readonly Option[], indent: string): string[] {
  const arms: string[] = [];
  for (const o of options) {
    if (!takesValue(o)) continue;
    const pat = [o.long, o.short].filter(Boolean).join('|');
    const choices = o.argChoices;
    const kind = optionValueKind(o);
    const body = choices ? `_worldctl_words ${words(choices)}` : kind === 'world' ? '_worldctl_worlds' : kind === 'dir' ? '_worldctl_dirs'
      : kind === 'file' ? '_worldctl_files' : 'COMPREPLY=()';
    arms.push(`${indent}${pat}) ${body}; return ;;`);
  }
  return arms;
}

/** The completion script for `worldctl` (a bash `complete -F` function). */
export function bashCompletion(program: Command): string {
  const name = program.name();
  const commands = program.commands.filter((c) => !(c as unknown as { _hidden?: boolean })._hidden);
  const globalValued = program.options.filter(takesValue).flatMap((o) => [o.long, o.short].filter((x): x is string => !!x));
  const lines: string[] = [
    `# bash completion for ${name}, generated from its command definitions: \`${name} completion bash\`.`,
    `# Install: ${name} completion bash > /etc/bash_completion.d/${name} (or source it from ~/.bashrc).`,
    `_worldctl_words() { local IFS=$' \\t\\n'; COMPREPLY=($(compgen -W "$1" -- "$cur")); }`,
    `_worldctl_dirs() { local IFS=$'\\n'; COMPREPLY=($(compgen -d -- "$cur")); }`,
    `_worldctl_files() { local IFS=$'\\n'; COMPREPLY=($(compgen -f -- "$cur")); }`,
    // World names may hold spaces: one a line, and compgen splits on newlines only.
    `_worldctl_worlds() { local IFS=$'\\n'; COMPREPLY=($(compgen -W "$("\${COMP_WORDS[0]}" "\${home[@]}" list --names 2>/dev/null)" -- "$cur")); }`,
    `_${name}() {`,
    '  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}',
    '  local i w cmd= home=() npos=0 skip=0',
    '  # The command is the first word that is neither a global option nor its value.',
    '  for ((i = 1; i < COMP_CWORD; i++)); do',
    '    w=${COMP_WORDS[i]}',
    '    if [[ -z $cmd ]]; then',
    '      case $w in',
    `        --home) home=(--home "\${COMP_WORDS[i+1]}"); ((i++)) ;;`,
    '        --home=*) home=("$w") ;;',
    ...(globalValued.filter((f) => f !== '--home').length ? [`        ${globalValued.filter((f) => f !== '--home').join('|')}) ((i++)) ;;`] : []),
    '        -*) ;;',
    '        *) cmd=$w ;;',
    '      esac',
    '    elif ((skip)); then skip=0',
    '    elif [[ $w == -- ]]; then npos=99',
    '    elif [[ $w != -* ]]; then ((npos++))',
    '    else',
    '      case "$cmd $w" in',
  ];
  // Options that take a value: the next word is that value, not a positional argument.
  for (const c of commands) {
    const valued = c.options.filter(takesValue).flatMap((o) => [o.long, o.short].filter((x): x is string => !!x));
    if (valued.length) lines.push(`        ${valued.map((f) => `"${c.name()} ${f}"`).join('|')}) skip=1 ;;`);
  }
  lines.push(
    '      esac',
    '    fi',
    '  done',
    '  if [[ -z $cmd ]]; then',
    '    case $prev in --home) _worldctl_dirs; return ;; esac',
    `    if [[ $cur == -* ]]; then _worldctl_words ${words(flagsOf(program.options))}; else _worldctl_words ${words(commands.map((c) => c.name()))}; fi`,
    '    return',
    '  fi',
    '  case $cmd in',
  );
  for (const c of commands) {
    lines.push(`    ${c.name()})`);
    const arms = valueArms(c.options, '        ');
    if (arms.length) lines.push('      case $prev in', ...arms, '      esac');
    lines.push(`      if [[ $cur == -* ]]; then _worldctl_words ${words(flagsOf(c.options))}; return; fi`);
    const args = c.registeredArguments;
    const posArms = args.map((a, i) => {
      const kind = argumentKind(a);
      const fn = a.argChoices ? `_worldctl_words ${words(a.argChoices)}` : kind === 'world' ? '_worldctl_worlds' : kind === 'file' ? '_worldctl_files' : kind === 'dir' ? '_worldctl_dirs' : 'COMPREPLY=()';
      return `        ${a.variadic ? '*' : String(i)}) ${fn} ;;`;
    });
    if (posArms.length) lines.push('      case $npos in', ...posArms, '        *) COMPREPLY=() ;;', '      esac');
    else if (c.commands.length) lines.push(`      ((npos == 0)) && _worldctl_words ${words(c.commands.map((s) => s.name()))}`);
    lines.push('      ;;');
  }
  lines.push('  esac', '}', `complete -F _${name} ${name}`, '');
  return lines.join('\n');
}
