// Busy polling of /dev/fuse: once the queue of requests runs dry, keep reading it for a short window
// before going back to the event loop's epoll_wait.
//
// Why: a request is a ping-pong between the client and us. When our thread sleeps in epoll_wait,
// its CPU may halt, and the client's next request then waits for an inter-processor interrupt and
// a wake-up; on a VM without guest halt polling (this kind of machine: haltpoll.guest_halt_poll_ns=0)
// that is tens of microseconds per request. A client that issues its next request within the
// window finds us awake (tar -x: about eleven requests per file, the next 25-50 µs after each
// reply). Measured on a bare mount, `tar -x` of /usr/include: 5.5-6.6 s without, 3.8-4.5 s with a
// window of 50-100 µs; a no-op round trip (GETXATTR) 55-75 µs against 18-35 µs (bench/README.md,
// "Busy polling").
//
// The window adapts, as the guest haltpoll governor does: it grows (doubling, from START_NS up to
// the maximum) when a request came within what a longer window would have covered, and halves
// (down to none) when the idle time was longer than the maximum. A client that thinks longer than
// the maximum between requests (make, a shell at rest) thus costs no spinning after a few requests.
// A spin is made only after a request was served, never while the daemon is idle.
//
// The spin yields the CPU before each read (sched_yield, src/host/syscalls.c readSome). Where the
// scheduler put the client on the daemon's own CPU, the client otherwise waited for the spin to
// end: in a fuse trace of 200 stats of missing names by one process sharing the daemon's CPU, 60-110 µs
// from a reply to the next request; yielding, 16 µs a lookup (the client runs at once and its next
// request finds the daemon still polling). Across CPUs nothing changes (a yield with nothing else
// runnable returns at once): 98% of a world's `tar -x` requests are served from the other CPU, at
// 15 µs in the daemon and 26 µs from each reply to the next request (the client's wake-up), yielding
// or not, and the quick bench's lookup, metadata and job figures did not move.

/** The smallest window worth spinning: below it the window is none. */
export const START_NS = 5_000;

export class BusyPoll {
  private window: number;
  /** Spins made, and those a request ended (SIGUSR2's stats). */
  readonly counters = { spins: 0, spinsCaught: 0 };
  /** When the device last ran dry (the spin, if any, included), in ns; undefined: not since the last wake-up. */
  private dryAt: number | undefined;

  /** `maxNs`: the longest window; 0 never spins. */
  constructor(readonly maxNs: number) {
    this.window = maxNs > 0 ? Math.min(START_NS, maxNs) : 0;
  }

  /** How long to keep reading the device, in ns, now that it is dry. */
  get spinNs(): number {
    return this.window;
  }

  /** A read with the window as its spin gave a request (`caught`) or ran out. */
  spun(caught: boolean): void {
    this.counters.spins++;
    if (caught) this.counters.spinsCaught++;
  }

  /** The device ran dry at `nowNs` (after any spin). */
  idle(nowNs: number): void {
    this.dryAt = nowNs;
  }

  /** The event loop found the device readable at `nowNs`: was the idle time one a longer window would have covered? */
  woke(nowNs: number): void {
    if (this.dryAt === undefined || this.maxNs === 0) return;
    const waited = this.window + (nowNs - this.dryAt);
    this.dryAt = undefined;
    if (waited <= this.maxNs) this.window = Math.min(this.maxNs, Math.max(START_NS, this.window * 2));
    else this.window = this.window / 2 < START_NS ? 0 : this.window / 2;
  }
}
