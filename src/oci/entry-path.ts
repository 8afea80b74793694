// Paths inside an OCI layer tar, checked before anything touches the disk. Pure: no I/O.
// A layer may only describe paths below its own root: no absolute names, no `..`, no NUL, and no
// relative symlink that climbs above the root (OCI image-spec, "Changesets"; the classic tar escapes).

/** Linux NAME_MAX: the longest path component. */
const NAME_MAX = 255;

/** Why an archive path was refused (a sentence fragment, shown after the path). */
export type PathProblem = string;

/**
 * The layer-relative form of a tar entry name ('' for the root): `./` prefixes, repeated and
 * trailing slashes and `.` components dropped. Returns a problem instead when the name is
 * absolute, contains `..` or NUL, or has a component longer than 255 bytes.
 */
export function entryRel(raw: string): { rel: string } | { problem: PathProblem } {
  if (raw.includes('\0')) return { problem: 'contains a NUL byte' };
  if (raw.startsWith('/')) return { problem: 'is absolute (a layer holds paths relative to its root)' };
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') return { problem: 'contains ".." (it would reach outside the layer)' };
    if (Buffer.byteLength(part) > NAME_MAX) return { problem: `has a component longer than ${NAME_MAX} bytes` };
    parts.push(part);
  }
  return { rel: parts.join('/') };
}

/** The parent of a layer-relative path ('' for top-level names and the root). */
export function relParent(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i < 0 ? '' : rel.slice(0, i);
}

/** The last component of a non-root layer-relative path. */
export function relBase(rel: string): string {
  return rel.slice(rel.lastIndexOf('/') + 1);
}

/** Every proper ancestor of `rel`, nearest the root first ('' excluded). */
export function relAncestors(rel: string): string[] {
  const out: string[] = [];
  for (let i = rel.indexOf('/'); i >= 0; i = rel.indexOf('/', i + 1)) out.push(rel.slice(0, i));
  return out;
}

/**
 * Whether a symlink at `rel` with `target` points outside the layer's root. An absolute target is
 * a path of the world (a process in it sees it under the world's root; worldfs never follows
 * symlinks), so only a relative one can climb out: `a/l -> ../../x` does, `a/l -> ../x` does not.
 */
export function symlinkEscapes(rel: string, target: string): boolean {
  if (target.startsWith('/')) return false;
  let depth = relParent(rel) === '' ? 0 : relParent(rel).split('/').length;
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (depth === 0) return true;
      depth--;
    } else {
      depth++;
    }
  }
  return false;
}
