// What `worldctl diff` shows for each changed path: a text diff of two files (added and deleted
// text files against nothing), or one summary line for what a text diff cannot show: binary data,
// symlinks, special files, directories, modes, type changes. Pure: the sides are described by data.
import type { EntryKind } from './whiteout/format.js';
import { isWithin, toViewPath, type ViewPath } from './paths.js';

/** As src/host/diff.ts reports it. */
export type ChangeKind = 'added' | 'modified' | 'deleted';

/** One side of a change: the object the parents' view shows (before) or the world's view (after). */
export interface DiffSide {
  readonly kind: EntryKind;
  /** Permission bits and setuid/setgid/sticky (mode & 0o7777). */
  readonly perm: number;
  readonly size: number;
  /** Where its data is on the host (regular files), to hand to the text differ. */
  readonly host: string;
  /** Regular files: no NUL byte in its first block (git's and diff's test). */
  readonly text: boolean;
  readonly target?: string;
  /** major:minor of a device node. */
  readonly device?: string;
}

export type DiffItem =
  /** A unified diff of `before` and `after` (undefined: /dev/null), labelled a/PATH and b/PATH. */
  | { readonly kind: 'text'; readonly path: ViewPath; readonly before?: string; readonly after?: string }
  | { readonly kind: 'note'; readonly path: ViewPath; readonly line: string };

const NAMES: Record<EntryKind, string> = {
  file: 'file', dir: 'directory', symlink: 'symlink', fifo: 'fifo', chardev: 'character device', blockdev: 'block device', socket: 'socket',
};

const octal = (perm: number) => perm.toString(8).padStart(4, '0');

function describe(s: DiffSide): string {
  if (s.kind === 'symlink') return `symlink -> ${s.target}`;
  if (s.kind === 'chardev' || s.kind === 'blockdev') return `${NAMES[s.kind]} ${s.device}`;
  if (s.kind === 'file') return s.size === 0 ? 'empty file' : `${s.text ? 'file' : 'binary file'}, ${s.size} bytes`;
  return NAMES[s.kind];
}

/** The items that show one change, in order. `change` comes from the layer diff (src/host/diff.ts). */
export function diffItems(path: ViewPath, change: ChangeKind, before: DiffSide | undefined, after: DiffSide | undefined): DiffItem[] {
  const note = (line: string): DiffItem => ({ kind: 'note', path, line });
  const shown = path + (after?.kind === 'dir' || (after === undefined && before?.kind === 'dir') ? '/' : '');
  if (change === 'added' || before === undefined) {
    if (after === undefined) return [];
    // An empty file makes an empty diff: it gets a line of its own.
    if (after.kind === 'file' && after.text && after.size > 0) return [{ kind: 'text', path, after: after.host }];
    return [note(`added ${shown} (${describe(after)}, mode ${octal(after.perm)})`)];
  }
  if (change === 'deleted' || after === undefined) {
    if (before.kind === 'file' && before.text && before.size > 0) return [{ kind: 'text', path, before: before.host }];
    return [note(`deleted ${shown} (${describe(before)}${before.kind === 'dir' ? ', with everything in it' : ''})`)];
  }
  if (before.kind !== after.kind) return [note(`changed ${shown}: ${describe(before)} -> ${describe(after)}`)];
  const out: DiffItem[] = [];
  if (before.perm !== after.perm) out.push(note(`mode of ${shown}: ${octal(before.perm)} -> ${octal(after.perm)}`));
  switch (after.kind) {
    case 'file':
      if (before.text && after.text) out.push({ kind: 'text', path, before: before.host, after: after.host });
      else out.push(note(`binary ${shown} changed (${before.size} -> ${after.size} bytes)`));
      break;
    case 'symlink':
      if (before.target !== after.target) out.push(note(`symlink ${shown}: -> ${before.target} became -> ${after.target}`));
      break;
    case 'chardev':
    case 'blockdev':
      if (before.device !== after.device) out.push(note(`${NAMES[after.kind]} ${shown}: ${before.device} -> ${after.device}`));
      break;
    default:
      break;
  }
  // Copied up for an owner, time or xattr change only: the layer holds it, nothing above shows why.
  if (out.length === 0) out.push(note(`metadata of ${shown} changed (owner, times or extended attributes)`));
  return out;
}

/**
 * Path filters as given on the command line ("/etc", "etc/apt/"), as ViewPaths; a relative one
 * is taken from the world's root. Throws (a usage error for the CLI) on a path escaping the root.
 */
export function pathFilters(raw: readonly string[]): ViewPath[] {
  return raw.map((p) => toViewPath(p.startsWith('/') ? p : '/' + p));
}

/** Whether `path` is one of the `filters` or lies below one (no filters: everything passes). */
export function passesFilters(path: ViewPath, filters: readonly ViewPath[]): boolean {
  return filters.length === 0 || filters.some((f) => isWithin(path, f));
}
