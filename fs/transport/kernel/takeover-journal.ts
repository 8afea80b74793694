// What a daemon taking over a FUSE connection whose daemon died must know, kept in a file as the
// connection is served (docs/processes.md, "When a daemon dies"): the node table's calls
// (node-journal.ts), the kernel's INIT (the negotiation is made again from it, with no reply),
// and whether the kernel opens files and directories itself (decided at the first OPEN and
// OPENDIR). One line of JSON a record.
//
// The file is mapped shared (mapShared): a record is stored into the page cache as it is made,
// before the reply that hands its node id to the kernel, so a daemon killed at any point leaves a
// journal of every id the kernel holds (one it had not answered yet may be there too: a lookup
// counted once more, which only keeps a node a little longer), and a record costs no system call.
// The file is written with zeros to its size first (a store into a hole of a full disk would be
// SIGBUS); the records end at the first NUL. It is rewritten from a snapshot once it holds four
// times more calls than the table has nodes, or is full.
import { closeSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dropSharedPages, mapShared, unmapShared } from '../../../src/host/syscalls.js';
import type { OpenDecisions } from './kernel-opens.js';
import { JournaledInodeTable, decodeCalls, encodeCall, snapshot, type TableCall } from './node-journal.js';

/** The records beside the table's calls: the kernel's INIT (its body, base64), an open decision. */
export type SessionRecord =
  | readonly ['I', string]
  | readonly ['S', 'files' | 'dirs', boolean];

type JournalRecord = TableCall | SessionRecord;

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
  const text = readFileSync(path, 'utf8');
  const end = text.indexOf('\0');
  const records = decodeCalls(end < 0 ? text : text.slice(0, end)) as unknown as JournalRecord[];
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

/** The smallest size the journal file is mapped at; a rewrite sizes it at four times its snapshot. */
const MIN_CAPACITY = 1 << 20;
/** Stored records leave the daemon's resident set every this many bytes (dropSharedPages). */
const DROP_EVERY = 256 << 10;
/** The buffer a snapshot is written through, and the zeros after it. */
const CHUNK = 64 << 10;
const PAGE = 4096;

export class TakeoverJournal {
  /** The node table whose calls are journaled: the transport's. */
  readonly table: JournaledInodeTable;
  /** The file, mapped; undefined before a takeover's restore, and once journaling stopped. */
  private map: Buffer | undefined;
  /** Where the next record goes in `map`. */
  private at = 0;
  /** Up to where `map`'s pages were taken out of the resident set. */
  private dropped = 0;
  private sinceSnapshot = 0;
  private init: string | undefined;
  private readonly written: OpenDecisions = {};

  /**
   * Start the journal at `path` afresh (mode 0600), or, for a takeover (`fresh` false), leave the
   * file as it is until `restore` rewrites it. `decisions` reports the connection's open decisions
   * at each flush, so that one is recorded before the reply it changes.
   */
  constructor(private readonly path: string, private readonly decisions: () => OpenDecisions, fresh = true) {
    this.table = new JournaledInodeTable((c) => {
      if (this.map === undefined) return;
      this.append(encodeCall(c));
      this.sinceSnapshot++;
    });
    if (fresh) this.rewrite();
  }

  /** The kernel's INIT was answered. */
  recordInit(body: Buffer): void {
    this.init = body.toString('base64');
    if (this.map !== undefined) this.append(encodeCall(['I', this.init]));
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

  /**
   * Called before every reply: an open decision made by the request is recorded, and a long
   * history is replaced by a snapshot. Records themselves are in the file already.
   */
  flush(): void {
    if (this.map === undefined) return;
    // Each is decided once, early: asked only until both are recorded.
    if (this.written.files === undefined || this.written.dirs === undefined) this.recordDecisions();
    if (this.sinceSnapshot > Math.max(MIN_CALLS_BEFORE_SNAPSHOT, 4 * this.table.size)) this.rewrite();
  }

  private recordDecisions(): void {
    const now = this.decisions();
    for (const k of ['files', 'dirs'] as const) {
      if (now[k] !== undefined && now[k] !== this.written[k]) {
        this.written[k] = now[k];
        this.append(encodeCall(['S', k, now[k]]));
      }
    }
  }

  /** Store one record; a full file is rewritten first (a snapshot of the table before this call). */
  private append(record: string): void {
    const line = record + '\n';
    const n = Buffer.byteLength(line);
    if (this.at + n > this.map!.length) {
      this.rewrite(n);
      if (this.map === undefined) return;
    }
    this.map!.write(line, this.at);
    this.at += n;
    // What is stored is only read by a daemon taking over: out of this one's resident set it goes.
    if (this.at - this.dropped >= DROP_EVERY) {
      dropSharedPages(this.map!, this.at);
      this.dropped = this.at;
    }
  }

  /**
   * Replace the file with the session's records and a snapshot of the table, in a new file of
   * room for four times that (`extra`: a record to be stored right after), then renamed over it.
   * Written through a small buffer, a record at a time: never the whole snapshot in memory.
   */
  private rewrite(extra = 0): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      const fd = openSync(tmp, 'w+', 0o600);
      try {
        const size = this.writeSnapshot(fd);
        const capacity = Math.ceil(Math.max(MIN_CAPACITY, 4 * (size + extra)) / PAGE) * PAGE;
        // Zeros to the end: the file's blocks exist before any store into them (a hole on a full disk would be SIGBUS).
        const zeros = Buffer.alloc(CHUNK);
        for (let off = size; off < capacity; off += CHUNK) writeSync(fd, zeros, 0, Math.min(CHUNK, capacity - off), off);
        const map = mapShared(fd, capacity);
        if (this.map !== undefined) unmapShared(this.map);
        this.map = map;
        this.at = size;
        this.dropped = 0;
      } finally {
        closeSync(fd); // the mapping keeps the file
      }
      renameSync(tmp, this.path);
      this.sinceSnapshot = 0;
    } catch (e) {
      try { unlinkSync(tmp); } catch { /* not made */ }
      this.fail(e as Error);
    }
  }

  /** Write the session's records and the table's snapshot at the start of `fd`; returns their size. */
  private writeSnapshot(fd: number): number {
    const chunk = Buffer.allocUnsafe(CHUNK);
    let fill = 0;
    let size = 0;
    const put = (record: TableCall | readonly unknown[]) => {
      const line = encodeCall(record) + '\n';
      const n = Buffer.byteLength(line);
      if (fill + n > CHUNK) {
        writeSync(fd, chunk, 0, fill, size - fill);
        fill = 0;
      }
      if (n > CHUNK) { // a name of 255 bytes and a long key fit many times; never in practice
        writeSync(fd, line, size);
      } else {
        chunk.write(line, fill);
        fill += n;
      }
      size += n;
    };
    if (this.init !== undefined) put(['I', this.init]);
    for (const k of ['files', 'dirs'] as const) {
      const d = this.written[k];
      if (d !== undefined) put(['S', k, d]);
    }
    for (const c of snapshot(this.table)) put(c);
    if (fill > 0) writeSync(fd, chunk, 0, fill, size - fill);
    return size;
  }

  /**
   * The file could not be made (a full disk): a journal missing calls would map the kernel's ids
   * to the wrong files after a takeover, so it is removed, and a takeover then fails plainly.
   */
  private fail(e: Error): void {
    process.stderr.write(`worldfs: node journal ${this.path}: ${e.message}; removed: this connection cannot be taken over should the daemon die\n`);
    this.close(true);
  }

  /** Stop journaling; `remove`: the file goes too (the connection ended: nothing to take over). */
  close(remove: boolean): void {
    if (this.map !== undefined) unmapShared(this.map);
    this.map = undefined;
    if (remove) {
      try { unlinkSync(this.path); } catch { /* gone */ }
    }
  }
}
