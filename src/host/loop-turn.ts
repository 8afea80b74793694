// The current turn of Node's event loop, as a number: what a cache with a lifetime of 0 keeps its
// answers for (src/core/lower-cache.ts). Everything done in one turn is one synchronous stretch
// of the daemon's work (a request and its replies); the next turn starts after I/O is polled again.

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
