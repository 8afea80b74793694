// The current turn of Node's event loop, as a number: what a cache with a lifetime of 0 keeps its
// answers for (src/core/lower-cache.ts). Everything done in one turn is one synchronous stretch
// of the daemon's work (a request and its replies); the next turn starts after I/O is polled again,
// or when a request loop that serves several requests in one stretch starts the next (`newTurn`):
// a change made behind the mount between two requests must show in the second.

let turn = 0;
let scheduled = false;
const next = () => {
  turn++;
  scheduled = false;
};

/** An id that stays the same until the event loop turns (setImmediate: after the current poll phase). */
export function loopTurn(): number {
  if (!scheduled) {
    scheduled = true;
    setImmediate(next);
  }
  return turn;
}

/** Start a new turn now: the next request must not be answered from what this one read. */
export function newTurn(): void {
  turn++;
}
