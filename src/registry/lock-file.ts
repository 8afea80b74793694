// An exclusive lock as a file created with O_EXCL, holding "<pid> <starttime>" (crun's discipline:
// a pid is stored with its start time, so a reused pid is never mistaken for a live holder).
// Node has no flock(2); this is the design. Races and their answers are in docs/registry.md.

import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { WorldError } from '../core/world-error.js';
import { errnoOf, fromIo } from './io-error.js';

/** Who holds a lock: a pid and its start time (field 22 of /proc/<pid>/stat, clock ticks after boot). */
export interface LockHolder {
  readonly pid: number;
  readonly start: string;
}

/** A held lock; `release` removes it if it is still ours. */
export interface HeldLock {
  readonly path: string;
  release(): void;
}

export interface LockOptions {
  readonly timeoutMs: number;        // give up with LOCKED after waiting this long
  readonly unreadableStaleMs?: number; // a lock file without a valid holder older than this is stale (default 5000)
}

const MAX_BACKOFF_MS = 100;

/**
 * Take the lock at `path`, waiting with exponential backoff (1 ms doubling to 100 ms, full jitter)
 * up to `timeoutMs`; breaks locks whose holder is dead. Blocks the thread while waiting (the CLI
 * does one thing at a time). Throws LOCKED naming the holder, or READ_ONLY / NO_SPACE / IO.
 * Not re-entrant: a process asking for a lock it holds gets an Error (a bug).
 */
export function acquireLock(path: string, options: LockOptions): HeldLock {
  const myStart = processStartTime(process.pid);
  if (myStart === undefined) {
    throw new WorldError('IO', `cannot lock ${path}: /proc/${process.pid}/stat is missing; expected /proc to be mounted`);
  }
  const me: LockHolder = { pid: process.pid, start: myStart };
  const content = `${me.pid} ${me.start}\n`;
  const deadline = performance.now() + options.timeoutMs;
  const unreadableStaleMs = options.unreadableStaleMs ?? 5000;
  for (let delay = 1; ; delay = Math.min(delay * 2, MAX_BACKOFF_MS)) {
    if (tryCreate(path, content)) return { path, release: () => releaseLock(path, content) };
    const seen = readLock(path);
    if (seen === undefined) continue; // released between our attempt and our look: try again now
    if (seen.holder && seen.holder.pid === me.pid && seen.holder.start === me.start) {
      throw new Error(`bug: this process (pid ${me.pid}) already holds ${path}; locks are not re-entrant`);
    }
    if (isStale(seen, unreadableStaleMs)) {
      breakStale(path, seen.text, content, unreadableStaleMs);
      continue;
    }
    const left = deadline - performance.now();
    if (left <= 0) throw lockedBy(path, seen.holder, options.timeoutMs);
    // Full jitter: with many waiters, one of them retries soon after a release, instead of all
    // sleeping out a common minimum while the lock sits free.
    sleep(Math.min(left, 1 + delay * Math.random()));
  }
}

/** Start time of `pid`, or undefined when there is no such live process (gone, or a zombie). */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch (e) {
    if (errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ESRCH') return undefined;
    return fromIo(e, 'read the process table', `/proc/${pid}/stat`);
  }
  // Field 2 (comm) is in parentheses and may hold spaces and ')': split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const state = fields[0];                 // field 3
  if (state === 'Z' || state === 'X') return undefined;
  return fields[22 - 3];
}

/** Parse lock file text "<pid> <start>\n"; undefined when it is not that (e.g. empty). */
export function parseHolder(text: string): LockHolder | undefined {
  const m = /^([1-9][0-9]*) ([0-9]+)\n?$/.exec(text);
  return m ? { pid: Number(m[1]), start: m[2]! } : undefined;
}

function tryCreate(path: string, content: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (e) {
    if (errnoOf(e) === 'EEXIST') return false;
    fromIo(e, 'create the lock file', path);
  }
  try {
    writeSync(fd, content);
  } catch (e) {
    closeSync(fd);
    try {
      unlinkSync(path); // an empty lock would block others for the grace period
    } catch {
      // nothing more we can do; it is broken as unreadable after unreadableStaleMs
    }
    fromIo(e, 'write the lock file', path);
  }
  closeSync(fd);
  return true;
}

interface SeenLock { readonly text: string; readonly holder: LockHolder | undefined; readonly mtimeMs: number }

function readLock(path: string): SeenLock | undefined {
  try {
    const mtimeMs = statSync(path).mtimeMs;
    const text = readFileSync(path, 'utf8');
    return { text, holder: parseHolder(text), mtimeMs };
  } catch (e) {
    if (errnoOf(e) === 'ENOENT') return undefined;
    return fromIo(e, 'read the lock file', path);
  }
}

/** A lock is stale when its holder is dead, or, naming none, when it is older than the grace period. */
function isStale(seen: SeenLock, unreadableStaleMs: number): boolean {
  return seen.holder ? !isAlive(seen.holder) : Date.now() - seen.mtimeMs > unreadableStaleMs;
}

/** Alive unless /proc says otherwise; a process hidden from us (hidepid) that exists counts as alive. */
function isAlive(holder: LockHolder): boolean {
  const start = processStartTime(holder.pid);
  if (start !== undefined) return start === holder.start;
  try {
    process.kill(holder.pid, 0);
    return false; // a zombie: kill(2) still finds it, but it holds nothing
  } catch (e) {
    return errnoOf(e) === 'EPERM'; // exists, but /proc hides it: we cannot check its start time
  }
}

/**
 * Remove a stale lock whose text was `staleText`. Two waiters may both find it stale; if both simply
 * unlinked, the second could remove a fresh lock the first had just taken. So breakers serialise on
 * `<path>.break` and unlink only if the file still holds the stale text.
 */
function breakStale(path: string, staleText: string, myContent: string, unreadableStaleMs: number): void {
  const breaker = `${path}.break`;
  if (!tryCreate(breaker, myContent)) {
    // Another breaker is at work (microseconds), or died mid-break: remove it only if it is dead.
    const other = readLock(breaker);
    if (other && isStale(other, unreadableStaleMs)) unlinkQuietly(breaker);
    else sleep(1);
    return;
  }
  try {
    // Judge again: an unreadable lock with the same (empty) text may be a fresh one being written.
    const now = readLock(path);
    if (now && now.text === staleText && isStale(now, unreadableStaleMs)) unlinkQuietly(path);
  } finally {
    releaseLock(breaker, myContent);
  }
}

function releaseLock(path: string, content: string): void {
  // Remove only our own lock: if someone judged us dead and broke it, the file is theirs now.
  if (readLock(path)?.text === content) unlinkQuietly(path);
}

function lockedBy(path: string, holder: LockHolder | undefined, timeoutMs: number): WorldError {
  const who = holder ? `pid ${holder.pid}${commandOf(holder.pid)}` : 'an unknown process (the lock file names no pid)';
  return new WorldError('LOCKED', `expected to lock the registry within ${timeoutMs / 1000} s, but ${path} ` +
    `is held by ${who}; wait for it to finish and retry, or stop it if it is stuck (its lock is then broken automatically)`, {
    hint: holder ? `ps -o pid,etime,args -p ${holder.pid}` : `remove ${path} if no worldctl is running`,
  });
}

function commandOf(pid: number): string {
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    return args ? ` (${args.length > 80 ? `${args.slice(0, 77)}...` : args})` : '';
  } catch {
    return '';
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch (e) {
    if (errnoOf(e) !== 'ENOENT') fromIo(e, 'remove the lock file', path);
  }
}

const SLEEPER = new Int32Array(new SharedArrayBuffer(4));

function sleep(ms: number): void {
  Atomics.wait(SLEEPER, 0, 0, ms);
}
