// Text diffs through diffutils' `diff -u`, run with execa: a proven differ (Myers' algorithm with
// its heuristics for large files, "\ No newline at end of file", exact hunk headers) for the price
// of one process per changed text file. Files are compared where they lie in the layers.
import { execa } from 'execa';

/**
 * The unified diff turning `before` into `after` (undefined: an empty /dev/null side), labelled
 * a/PATH and b/PATH as git does, so `patch -p1` in the world's root applies it. '' when equal.
 */
export async function unifiedDiff(path: string, before: string | undefined, after: string | undefined): Promise<string> {
  const rel = path.replace(/^\/+/, '');
  const r = await execa('diff', [
    '-u', '--label', before === undefined ? '/dev/null' : `a/${rel}`, '--label', after === undefined ? '/dev/null' : `b/${rel}`,
    before ?? '/dev/null', after ?? '/dev/null',
  ], { reject: false, stripFinalNewline: false, encoding: 'utf8', env: { LC_ALL: 'C' }, extendEnv: true });
  // diff: 0 equal, 1 different, 2 trouble.
  if (r.exitCode === 0 || r.exitCode === 1) return r.stdout;
  if (r.failed && r.exitCode === undefined) {
    throw new Error(`cannot run diff (diffutils) for ${path}: ${r.shortMessage}`, { cause: r });
  }
  throw new Error(`diff failed on ${path}: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
}
