// Manual pages in roff (man(7)), generated at build time (scripts/gen-man.mjs) so they cannot drift:
// worldctl(1) from the commander program itself, worldfs(1) from worldfs's usage text and the
// README's worldfs section (the documentation of its options). Pure: text in, text out.
import type { Command, Option } from 'commander';
import { EXIT } from './io.js';

/** What each exit code means (a Record over EXIT: a new code without a meaning does not compile). */
const EXIT_MEANING: Record<keyof typeof EXIT, string> = {
  ok: 'success (run and shell: the command\'s own exit status)',
  error: 'an error: the message says what was expected, what was found and what to do',
  usage: 'a usage error or a bad world name',
  conflict: 'a merge refused because of conflicts',
  busy: 'busy: a merge in progress, the registry locked, a mount in use',
  notFound: 'no such world',
};

/** Text as roff: backslashes and leading dots or quotes made harmless. */
export function roff(text: string): string {
  return text.replace(/\\/g, '\\e').replace(/-/g, '\\-')
    // Non-ASCII as groff's \[uXXXX]: the page renders the same whatever the reader's locale.
    .replace(/[^\x00-\x7f]/gu, (c) => `\\[u${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`)
    .split('\n').map((l) => (/^[.']/.test(l) ? `\\&${l}` : l)).join('\n');
}

const bold = (s: string) => `\\fB${roff(s)}\\fR`;

function optionItem(o: Option): string[] {
  const extra: string[] = [];
  if (o.argChoices) extra.push(`one of: ${o.argChoices.join(', ')}`);
  if (o.defaultValue !== undefined && !(Array.isArray(o.defaultValue) && o.defaultValue.length === 0)) {
    extra.push(`default: ${Array.isArray(o.defaultValue) ? o.defaultValue.join(' ') : String(o.defaultValue)}`);
  }
  return ['.TP', bold(o.flags), roff(o.description + (extra.length ? ` (${extra.join('; ')})` : ''))];
}

function usageOf(c: Command, prefix: string): string {
  return `${prefix} ${c.name()} ${c.usage()}`.trim();
}

/** worldctl(1). `version` goes into the page's header. */
export function worldctlManPage(program: Command, version: string): string {
  const name = program.name();
  const visible = (opts: readonly Option[]) => opts.filter((o) => !o.hidden);
  const out: string[] = [
    `.\\" Generated from worldctl's command definitions by scripts/gen-man.mjs; do not edit.`,
    `.TH ${name.toUpperCase()} 1 "" "worldos ${version}" "User Commands"`,
    '.SH NAME', `${name} \\- ${roff(program.description())}`,
    '.SH SYNOPSIS', `${bold(name)} [${bold('--home')} \\fIDIR\\fR] \\fICOMMAND\\fR [\\fIOPTIONS\\fR] [\\fIARGS\\fR]`,
    '.SH DESCRIPTION',
    inline('A world is a container of processes and files: a copy-on-write view of its parents (in the end, of the base ' +
      'directory, usually /) served by a worldfs(1) daemon, and its own PID, mount, UTS and IPC namespaces. ' +
      `${name} creates, lists, runs, compares, merges and deletes worlds in a store. ` +
      '`run` and `shell` enter a world as `docker exec` enters a container, starting its init and view first when they are not running.'),
    '.SH GLOBAL OPTIONS',
    ...visible(program.options).flatMap(optionItem),
    '.SH COMMANDS',
  ];
  for (const c of program.commands) {
    out.push('.SS ' + bold(usageOf(c, name)), roff(c.description()));
    for (const a of c.registeredArguments) out.push('.TP', `\\fI${roff(a.name())}${a.variadic ? '...' : ''}\\fR`, roff(a.description));
    for (const o of visible(c.options)) out.push(...optionItem(o));
  }
  out.push('.SH EXIT STATUS');
  for (const [k, code] of Object.entries(EXIT)) out.push('.TP', bold(String(code)), roff(EXIT_MEANING[k as keyof typeof EXIT]));
  out.push(
    '.SH ENVIRONMENT',
    '.TP', bold('WORLDOS_HOME'), roff('the store, when --home is not given (else /var/lib/worldos as root, $XDG_DATA_HOME/worldos otherwise)'),
    '.TP', bold('WORLDFS_TRANSPORT'), roff('the default transport of the worldfs daemons it starts (see worldfs(1))'),
    '.SH FILES',
    '.TP', bold('<home>/worlds.xml'), roff('the world graph, replaced atomically under worlds.lock'),
    '.TP', bold('<home>/worlds/<id>/layer'), roff('a world\'s own layer; next to it worldfs.log (its daemon\'s and init\'s messages) and output.log (what its detached processes print: worldctl logs)'),
    '.SH SEE ALSO', `${bold('worldfs')}(1), ${bold('unshare')}(1), ${bold('nsenter')}(1)`,
    '',
  );
  return out.join('\n');
}

/** The `## worldfs` section of the README, up to the next `## ` heading. */
function readmeSection(readme: string, heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README.md has no "## ${heading}" section to build the manual page from`);
  const body = readme.slice(start + heading.length + 5);
  const end = body.search(/\n## /);
  return end < 0 ? body : body.slice(0, end);
}

/** Markdown inline marks as roff: `code` bold, **strong** bold, [text](link) as text. */
function inline(md: string): string {
  return roff(md.replace(/\[([^\]]+)\]\([^)]+\)/g, '$1'))
    .replace(/`([^`]+)`/g, '\\fB$1\\fR').replace(/\*\*([^*]+)\*\*/g, '\\fB$1\\fR');
}

/** worldfs(1): its usage text as the synopsis, the README's worldfs section as the rest. */
export function worldfsManPage(usage: string, readme: string, version: string): string {
  const out: string[] = [
    `.\\" Generated from fs/options.ts (usage) and README.md (## worldfs) by scripts/gen-man.mjs; do not edit.`,
    `.TH WORLDFS 1 "" "worldos ${version}" "User Commands"`,
    '.SH NAME', 'worldfs \\- a multi-parent copy-on-write union filesystem on FUSE (fuse-overlayfs\'s command line)',
    '.SH SYNOPSIS', '.nf', roff(usage.replace(/^usage: /, '')), '.fi',
    '.SH DESCRIPTION',
  ];
  let inCode = false;
  let heading = false;
  for (const line of readmeSection(readme, 'worldfs').split('\n')) {
    if (line.startsWith('```')) {
      out.push(inCode ? '.fi' : '.nf');
      inCode = !inCode;
      continue;
    }
    if (inCode) { out.push(roff(line)); continue; }
    if (line.startsWith('### ')) break; // measurements: not manual material
    if (line.startsWith('|')) {
      const cells = line.slice(1, line.endsWith('|') ? -1 : undefined).split(/(?<!\\)\|/).map((c) => c.trim());
      if (cells.every((c) => /^-+$/.test(c))) continue;
      if (!heading) { heading = true; out.push('.SH OPTIONS'); continue; } // the table's header row
      const [opt, meaning, dflt] = cells;
      out.push('.TP', inline(opt!.replace(/\\\|/g, '|')), inline(meaning!.replace(/\\\|/g, '|')) + (dflt ? ` (${dflt === 'required' ? 'required' : `default: ${inline(dflt)}`})` : ''));
      continue;
    }
    out.push(line.trim() === '' ? '.PP' : inline(line));
  }
  out.push('.SH SEE ALSO', `${bold('worldctl')}(1), ${bold('fuse-overlayfs')}(1), ${bold('mount')}(8)`, '');
  return out.join('\n');
}
