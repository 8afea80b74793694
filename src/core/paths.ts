// Path types the compiler keeps apart (after yarn's fslib): a ViewPath is what a program inside the
// view sees; a HostPath is a real path in a layer directory. Pure: no I/O.

/** A path as seen through the view: absolute, normalised, no trailing slash ('/' for the root). */
export type ViewPath = string & { readonly __brand: 'ViewPath' };
/** A path on the host, inside one layer directory. */
export type HostPath = string & { readonly __brand: 'HostPath' };
/** One path component: non-empty, no '/', not '.' or '..'. */
export type Name = string & { readonly __brand: 'Name' };

export const ROOT = '/' as ViewPath;
/** Linux NAME_MAX. */
export const NAME_MAX = 255;

/** Normalise a path handed over by the kernel or a user into a ViewPath. Throws on '..' escapes. */
export function toViewPath(raw: string): ViewPath {
  if (!raw.startsWith('/')) throw new Error(`view path must be absolute, got ${JSON.stringify(raw)}`);
  const parts: string[] = [];
  for (const part of raw.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) throw new Error(`view path escapes the root: ${JSON.stringify(raw)}`);
      parts.pop();
      continue;
    }
    parts.push(part);
  }
  return ('/' + parts.join('/')) as ViewPath;
}

/** The components of a ViewPath, root first; [] for the root. */
export function splitView(path: ViewPath): Name[] {
  return path === ROOT ? [] : (path.slice(1).split('/') as Name[]);
}

/** The parent of a ViewPath; the root is its own parent. */
export function parentOf(path: ViewPath): ViewPath {
  if (path === ROOT) return ROOT;
  const i = path.lastIndexOf('/');
  return (i === 0 ? '/' : path.slice(0, i)) as ViewPath;
}

/** The last component of a non-root ViewPath. */
export function baseName(path: ViewPath): Name {
  return path.slice(path.lastIndexOf('/') + 1) as Name;
}

/** dir + name as a ViewPath. */
export function childOf(dir: ViewPath, name: Name | string): ViewPath {
  return (dir === ROOT ? '/' + name : dir + '/' + name) as ViewPath;
}

/** True when `path` is `ancestor` or lies below it. */
export function isWithin(path: ViewPath, ancestor: ViewPath): boolean {
  return ancestor === ROOT || path === ancestor || path.startsWith(ancestor + '/');
}

/** A relative path inside a layer: '' for the layer's root, otherwise no leading slash. */
export function relJoin(rel: string, name: string): string {
  return rel === '' ? name : rel + '/' + name;
}

/** The relative layer path of a ViewPath. */
export function relOf(path: ViewPath): string {
  return path === ROOT ? '' : path.slice(1);
}
