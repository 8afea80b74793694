// Copying a regular file's bytes sparsely: runs of all-zero 4 KiB blocks become holes. One run
// finder, two loops: synchronous (a copy-up done in line) and asynchronous (a copy-up staged in
// the thread pool while the daemon goes on serving, see copy-stager.ts).
import { read, readSync, write, writeSync } from 'node:fs';
import { host } from './errors.js';

/** Bytes read (and compared against zero) per step. */
export const CHUNK = 1 << 20;
const BLOCK = 4096;
const ZERO = Buffer.alloc(CHUNK);
let syncChunk: Buffer | undefined;

/** The [from, to) byte ranges of `buf[0, n)` that hold data: maximal runs of non-zero 4 KiB blocks. */
export function dataRuns(buf: Buffer, n: number): Array<[number, number]> {
  if (buf.compare(ZERO, 0, n, 0, n) === 0) return [];
  const runs: Array<[number, number]> = [];
  let runStart = -1;
  for (let off = 0; off < n; off += BLOCK) {
    const end = Math.min(off + BLOCK, n);
    const zero = buf.compare(ZERO, 0, end - off, off, end) === 0;
    if (!zero && runStart < 0) runStart = off;
    if (zero && runStart >= 0) { runs.push([runStart, off]); runStart = -1; }
  }
  if (runStart >= 0) runs.push([runStart, n]);
  return runs;
}

/** Copy `size` bytes from fd `inp` to fd `out` (same offsets), leaving holes for zero blocks. */
export function copySparse(inp: number, out: number, size: number): void {
  syncChunk ??= Buffer.allocUnsafe(CHUNK);
  const buf = syncChunk;
  for (let pos = 0; pos < size;) {
    const n = host(() => readSync(inp, buf, 0, Math.min(CHUNK, size - pos), pos));
    if (n === 0) break;
    for (const [from, to] of dataRuns(buf, n)) {
      for (let off = from; off < to;) off += host(() => writeSync(out, buf, off, to - off, pos + off));
    }
    pos += n;
  }
}

/** Raised by copySparseAsync when `signal` is aborted between steps. */
export class CopyAborted extends Error {}

/**
 * copySparse in the thread pool: one read or write outstanding at a time, so a copy holds at most
 * one pool thread. Resolves with the bytes copied (less than `size` if the file was shorter).
 */
export async function copySparseAsync(inp: number, out: number, size: number, signal?: AbortSignal): Promise<number> {
  const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
  let pos = 0;
  while (pos < size) {
    if (signal?.aborted) throw new CopyAborted('copy aborted');
    const n = await readAt(inp, buf, Math.min(buf.length, size - pos), pos);
    if (n === 0) break;
    for (const [from, to] of dataRuns(buf, n)) {
      for (let off = from; off < to;) off += await writeAt(out, buf, off, to - off, pos + off);
    }
    pos += n;
  }
  return pos;
}

function readAt(fd: number, buf: Buffer, len: number, pos: number): Promise<number> {
  return new Promise((res, rej) => read(fd, buf, 0, len, pos, (e, n) => (e ? rej(e) : res(n))));
}

function writeAt(fd: number, buf: Buffer, off: number, len: number, pos: number): Promise<number> {
  return new Promise((res, rej) => write(fd, buf, off, len, pos, (e, n) => (e ? rej(e) : res(n))));
}
