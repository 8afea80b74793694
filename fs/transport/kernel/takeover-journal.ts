// What a daemon taking over a FUSE connection whose daemon died must know, kept in a file as the
// connection is served (docs/processes.md, "When a daemon dies"): the node table's calls
// (node-journal.ts), the kernel's INIT (the negotiation is made again from it, with no reply),
// and whether the kernel opens files and directories itself (decided at the first OPEN and
// OPENDIR). One line of JSON a record.
//
// Lines are buffered and written before the next reply (Session calls flush): a node id reaches
// the kernel only once the line that makes it is in the file, so a daemon killed at any point
// leaves a journal of every id the kernel holds (one it had not answered yet may be there too: a
// lookup counted once more, which only keeps a node a little longer). The file is rewritten from
// a snapshot once it holds four times more calls than the table has nodes.
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { JournaledInodeTable, decodeCalls, encodeCall, snapshot, type TableCall } from './node-journal.js';

/** The records beside the table's calls: the kernel's INIT (its body, base64), an open decision. */
export type SessionRecord =
  | readonly ['I', string]
  | readonly ['S', 'files' | 'dirs', boolean];

type JournalRecord = TableCall | SessionRecord;

/** Whether the kernel opens files and directories itself (undefined: not decided yet). */
export interface OpenDecisions {
  files?: boolean | undefined;
  dirs?: boolean | undefined;
}

/** A journal read back: what the new daemon restores. */
export interface SavedSession {
  /** The body of the kernel's INIT request. */
  readonly init: Buffer;
  readonly decisions: OpenDecisions;
  readonly calls: readonly TableCall[];
}

/** Calls appended since the last snapshot before one is considered at all. */
const MIN_CALLS_BEFORE_SNAPSHOT = 20_000;

/** Read a journal; an Error when it cannot be the history of a served connection. */
export function readJournal(path: string): SavedSession {
  const records = decodeCalls(readFileSync(path, 'utf8')) as unknown as JournalRecord[];
  let init: Buffer | undefined;
  const decisions: OpenDecisions = {};
  const calls: TableCall[] = [];
  for (const r of records) {
    if (r[0] === 'I') init = Buffer.from(r[1], 'base64');
    else if (r[0] === 'S') decisions[r[1]] = r[2];
    else calls.push(r);
  }
  if (!init) throw new Error(`node journal ${path}: no INIT in it (the connection was never served)`);
  return { init, decisions, calls };
}

export class TakeoverJournal {
  /** The node table whose calls are journaled: the transport's. */
  readonly table: JournaledInodeTable;
  private fd: number | undefined;
  private readonly pending: string[] = [];
  private sinceSnapshot = 0;
  private init: string | undefined;
  private readonly written: OpenDecisions = {};

  /**
   * Start the journal at `path` afresh (mode 0600), or, for a takeover (`fresh` false), leave the
   * file as it is until `restore` rewrites it. `decisions` reports the connection's open decisions
   * at each flush, so that one is written before the reply it changes.
   */
  constructor(private readonly path: string, private readonly decisions: () => OpenDecisions, fresh = true) {
    this.table = new JournaledInodeTable((c) => {
      if (this.fd === undefined) return;
      this.pending.push(encodeCall(c));
      this.sinceSnapshot++;
    });
    if (fresh) this.fd = openSync(path, 'w', 0o600);
  }

  /** The kernel's INIT was answered. */
  recordInit(body: Buffer): void {
    this.init = body.toString('base64');
    this.pending.push(encodeCall(['I', this.init]));
  }

  /**
   * A daemon taking the connection over: put back the dead one's table and INIT (the caller has
   * restored the decisions), then start the file afresh from a snapshot.
   */
  restore(saved: SavedSession): void {
    this.table.restore(saved.calls);
    this.init = saved.init.toString('base64');
    Object.assign(this.written, saved.decisions);
    this.rewrite();
  }

  /** Write what was recorded since the last flush: before every reply. */
  flush(): void {
    if (this.fd === undefined) return;
    // Each is decided once, early: asked only until both are written.
    if (this.written.files === undefined || this.written.dirs === undefined) this.recordDecisions();
    if (this.pending.length === 0) return;
    const text = this.pending.join('\n') + '\n';
    this.pending.length = 0;
    try {
      writeSync(this.fd, text);
      if (this.sinceSnapshot > Math.max(MIN_CALLS_BEFORE_SNAPSHOT, 4 * this.table.size)) this.rewrite();
    } catch (e) {
      this.fail(e as Error);
    }
  }

  private recordDecisions(): void {
    const now = this.decisions();
    for (const k of ['files', 'dirs'] as const) {
      if (now[k] !== undefined && now[k] !== this.written[k]) {
        this.written[k] = now[k];
        this.pending.push(encodeCall(['S', k, now[k]]));
      }
    }
  }

  /** Replace the file with the session's records and a snapshot of the table (write, then rename). */
  private rewrite(): void {
    const lines: string[] = [];
    if (this.init !== undefined) lines.push(encodeCall(['I', this.init]));
    for (const k of ['files', 'dirs'] as const) {
      const d = this.written[k];
      if (d !== undefined) lines.push(encodeCall(['S', k, d]));
    }
    for (const c of snapshot(this.table)) lines.push(encodeCall(c));
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      const fd = openSync(tmp, 'w', 0o600);
      try {
        writeSync(fd, lines.join('\n') + '\n');
      } finally {
        closeSync(fd);
      }
      renameSync(tmp, this.path);
      if (this.fd !== undefined) closeSync(this.fd);
      this.fd = openSync(this.path, 'a', 0o600);
      this.sinceSnapshot = 0;
    } catch (e) {
      try { unlinkSync(tmp); } catch { /* not made */ }
      this.fail(e as Error);
    }
  }

  /**
   * A write failed (a full disk): a journal missing calls would map the kernel's ids to the wrong
   * files after a takeover, so it is removed, and a takeover then fails plainly instead.
   */
  private fail(e: Error): void {
    process.stderr.write(`worldfs: node journal ${this.path}: ${e.message}; removed: this connection cannot be taken over should the daemon die\n`);
    this.close(true);
  }

  /** Stop journaling; `remove`: the file goes too (the connection ended: nothing to take over). */
  close(remove: boolean): void {
    if (this.fd !== undefined) {
      try { closeSync(this.fd); } catch { /* closed */ }
      this.fd = undefined;
    }
    this.pending.length = 0;
    if (remove) {
      try { unlinkSync(this.path); } catch { /* gone */ }
    }
  }
}
