// One inotify descriptor with watches of chosen event masks, its events read many at a time on the
// main thread when the descriptor is readable (watchReadable): in the order they happened across
// all of its watches, as the kernel queues them. Node's fs.watch cannot choose the mask (it asks
// for writes and attribute changes too) and calls JavaScript once per event and per watcher.
import { closeSync, readSync } from 'node:fs';
import { inotifyAddWatch, inotifyInit, inotifyRmWatch, unwatchNative, watchReadable, type NativeWatch } from './syscalls.js';

/** The IN_* bits of <sys/inotify.h> used here. */
export const IN = {
  MODIFY: 0x2, ATTRIB: 0x4, MOVED_FROM: 0x40, MOVED_TO: 0x80, CREATE: 0x100, DELETE: 0x200,
  DELETE_SELF: 0x400, MOVE_SELF: 0x800, UNMOUNT: 0x2000, Q_OVERFLOW: 0x4000, IGNORED: 0x8000,
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

export class Inotify {
  readonly fd: number;
  private watch: NativeWatch | undefined;
  private readonly buf = Buffer.allocUnsafe(64 * 1024);

  /** `onEvents` gets every read's events, in order, on the main thread; never after close. */
  constructor(private readonly onEvents: (events: InotifyEvent[]) => void) {
    this.fd = inotifyInit();
    try {
      this.watch = watchReadable(this.fd, (status) => { if (status >= 0) this.drain(); });
    } catch (e) {
      closeSync(this.fd);
      throw e;
    }
  }

  /** Watch `path` for `mask` (added to what an earlier watch of the same inode asked): its watch descriptor. */
  add(path: string, mask: number): number {
    return inotifyAddWatch(this.fd, path, mask | IN.MASK_ADD);
  }

  remove(wd: number): void {
    if (this.watch !== undefined) inotifyRmWatch(this.fd, wd);
  }

  close(): void {
    if (this.watch === undefined) return;
    unwatchNative(this.watch);
    this.watch = undefined;
    closeSync(this.fd);
  }

  private drain(): void {
    const events: InotifyEvent[] = [];
    const buf = this.buf;
    for (let reads = 0; reads < READS_PER_TURN && this.watch !== undefined; reads++) {
      let n: number;
      try {
        n = readSync(this.fd, buf, 0, buf.length, null);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EINTR') continue;
        if (code === 'EAGAIN') break;
        throw e;
      }
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
    if (events.length > 0 && this.watch !== undefined) this.onEvents(events);
  }
}
