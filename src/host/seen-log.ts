// The seen log: for each path a world changes, what its view showed just before the first change
// (the identity of the lower object, or "absent"). Merge uses it to detect conflicts: a path the
// child changed whose version in the ancestor has changed since. Append-only, one line per path:
//   <identity>\t<view path>\n        identity = absent | <dev>:<ino>:<ctime ns>
import { closeSync, existsSync, openSync, readFileSync, writeSync } from 'node:fs';
import { lstatSync } from './host-fs.js';

/** The identity of a host object: changes whenever the object is replaced or changed. */
export function identityOf(hostPath: string | undefined): string {
  if (hostPath === undefined) return 'absent';
  const st = lstatSync(hostPath, { bigint: true, throwIfNoEntry: false });
  return st ? `${st.dev}:${st.ino}:${st.ctimeNs}` : 'absent';
}

/** Parse a seen log into path → identity (the first record of a path wins). */
export function parseSeenLog(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const tab = line.indexOf('\t');
    if (tab < 0) continue;
    const path = line.slice(tab + 1);
    if (!out.has(path)) out.set(path, line.slice(0, tab));
  }
  return out;
}

export function readSeenLog(file: string): Map<string, string> {
  return existsSync(file) ? parseSeenLog(readFileSync(file, 'utf8')) : new Map();
}

/**
 * Records first changes of paths to a file; keeps the set of recorded paths in memory, and the
 * file open for appending from the first record on (one write per record, each a whole line,
 * as appendFileSync's was) until `close`.
 */
export class SeenLog {
  private readonly seen: Set<string>;
  private fd: number | undefined;
  constructor(private readonly file: string) {
    this.seen = new Set(readSeenLog(file).keys());
  }

  /** Record `path`'s pre-change identity unless it was recorded before. */
  record(path: string, hostPathBefore: string | undefined): void {
    if (this.seen.has(path) || path.includes('\n')) return;
    this.seen.add(path);
    // An explicit mode: the daemon runs with umask 0, and merges trust this record (docs/merge.md).
    this.fd ??= openSync(this.file, 'a', 0o600);
    writeSync(this.fd, `${identityOf(hostPathBefore)}\t${path}\n`);
  }

  /** Close the file (a stack that is no longer served); a later record opens it again. */
  close(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}
