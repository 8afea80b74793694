// Watches of chosen event masks on the process's one inotify descriptor, its events read many at a
// time on the main thread when it is readable (watchReadable): in the order they happened, as the
// kernel queues them. Node's fs.watch cannot choose the mask (it asks for writes and attribute
// changes too) and calls JavaScript once per event and per watcher.
import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { getSystemErrorName } from 'node:util';
import { inotifyAddWatch, inotifyInit, inotifyRmWatch, readSome, unwatchNative, watchReadable, type NativeWatch } from './syscalls.js';

const { EAGAIN, EINTR } = constants.errno;

/** The IN_* bits of <sys/inotify.h> used here. */
export const IN = {
  MODIFY: 0x2, ATTRIB: 0x4, MOVED_FROM: 0x40, MOVED_TO: 0x80, CREATE: 0x100, DELETE: 0x200,
  Q_OVERFLOW: 0x4000, IGNORED: 0x8000,
  ONLYDIR: 0x1000000, EXCL_UNLINK: 0x4000000, MASK_ADD: 0x20000000, ISDIR: 0x40000000,
} as const;

/** Events that change a name in a watched directory (Node's 'rename'); the rest change content or attributes. */
export const NAME_EVENTS = IN.MOVED_FROM | IN.MOVED_TO | IN.CREATE | IN.DELETE;

export interface InotifyEvent {
  readonly wd: number;
  readonly mask: number;
  /** The entry of the watched directory it happened to; null: the directory itself (or an overflow, wd -1). */
  readonly name: string | null;
}

const HEADER = 16; // struct inotify_event: wd, mask, cookie, len
/** Reads per readable turn at most: then the event loop serves others and the poll calls again. */
const READS_PER_TURN = 64;

/** What a user of the process's inotify descriptor gets: its own watches' events, in order. */
export type InotifyListener = (events: InotifyEvent[]) => void;

/**
 * The process's one inotify descriptor (as libuv keeps one for fs.watch): the kernel limits
 * descriptors per user (max_user_instances, 128 here), and every world's daemon watches. Each
 * listener gets the events of the watches it added, in the order they happened, and every
 * overflow (wd -1); an inode two listeners watch has one watch descriptor, removed with the last.
 */
class InotifyHub {
  private fd = -1;
  private watch: NativeWatch | undefined;
  private readonly buf = Buffer.allocUnsafe(64 * 1024);
  private readonly owners = new Map<number, Set<InotifyListener>>();
  private readonly listeners = new Set<InotifyListener>();

  /** Start delivering to `listener` (opening the descriptor for the first one). */
  join(listener: InotifyListener): void {
    if (this.watch === undefined) {
      const fd = inotifyInit();
      try {
        this.watch = watchReadable(fd, (status) => { if (status >= 0) this.drain(); });
      } catch (e) {
        closeSync(fd);
        throw e;
      }
      this.fd = fd;
    }
    this.listeners.add(listener);
  }

  /** Watch `path` for `mask` (added to what an earlier watch of the same inode asked) for `listener`: the watch descriptor. */
  add(listener: InotifyListener, path: string, mask: number): number {
    const wd = inotifyAddWatch(this.fd, path, mask | IN.MASK_ADD);
    let set = this.owners.get(wd);
    if (set === undefined) this.owners.set(wd, (set = new Set()));
    set.add(listener);
    return wd;
  }

  /** `listener` no longer wants `wd` (the watch goes with its last listener). */
  remove(listener: InotifyListener, wd: number): void {
    const set = this.owners.get(wd);
    if (set === undefined || !set.delete(listener) || set.size > 0) return;
    this.owners.delete(wd);
    inotifyRmWatch(this.fd, wd);
  }

  /** `listener` is done: its watches go, and the descriptor with the last listener. */
  leave(listener: InotifyListener): void {
    if (!this.listeners.delete(listener)) return;
    for (const [wd, set] of this.owners) if (set.has(listener)) this.remove(listener, wd);
    if (this.listeners.size > 0 || this.watch === undefined) return;
    unwatchNative(this.watch);
    this.watch = undefined;
    closeSync(this.fd);
    this.fd = -1;
    this.owners.clear();
  }

  private drain(): void {
    const events: InotifyEvent[] = [];
    const buf = this.buf;
    for (let reads = 0; reads < READS_PER_TURN && this.watch !== undefined; reads++) {
      const n = readSome(this.fd, buf);
      if (n === -EINTR) continue;
      if (n === -EAGAIN) break;
      if (n < 0) throw new Error(`reading inotify events failed: ${getSystemErrorName(n)}`);
      for (let off = 0; off + HEADER <= n;) {
        const len = buf.readUInt32LE(off + 12);
        let name: string | null = null;
        if (len > 0) {
          const end = buf.indexOf(0, off + HEADER);
          name = buf.toString('utf8', off + HEADER, end < 0 || end > off + HEADER + len ? off + HEADER + len : end);
        }
        events.push({ wd: buf.readInt32LE(off), mask: buf.readUInt32LE(off + 4), name });
        off += HEADER + len;
      }
    }
    if (events.length > 0) this.deliver(events);
  }

  /** Each listener its own events, in order; an overflow to all; a dropped watch (IN_IGNORED) forgotten after. */
  private deliver(events: readonly InotifyEvent[]): void {
    const per = new Map<InotifyListener, InotifyEvent[]>();
    const to = (l: InotifyListener, ev: InotifyEvent) => {
      const list = per.get(l);
      if (list === undefined) per.set(l, [ev]);
      else list.push(ev);
    };
    for (const ev of events) {
      if (ev.mask & IN.Q_OVERFLOW) {
        for (const l of this.listeners) to(l, ev);
        continue;
      }
      const set = this.owners.get(ev.wd);
      if (set === undefined) continue;
      for (const l of set) to(l, ev);
      if (ev.mask & IN.IGNORED) this.owners.delete(ev.wd);
    }
    for (const [l, list] of per) if (this.listeners.has(l)) l(list);
  }
}

const hub = new InotifyHub();

/** One user of the process's inotify descriptor: its watches, its events. */
export class Inotify {
  private open = true;
  private readonly listener: InotifyListener;

  /** `onEvents` gets the events of this instance's watches (and overflows), in order, on the main thread; never after close. */
  constructor(onEvents: InotifyListener) {
    this.listener = (events) => onEvents(events);
    hub.join(this.listener);
  }

  /** Watch `path` for `mask`: the watch descriptor. Throws with the host's code (ENOENT, ENOSPC past the watch limit...). */
  add(path: string, mask: number): number {
    return hub.add(this.listener, path, mask);
  }

  remove(wd: number): void {
    if (this.open) hub.remove(this.listener, wd);
  }

  close(): void {
    if (!this.open) return;
    this.open = false;
    hub.leave(this.listener);
  }
}
