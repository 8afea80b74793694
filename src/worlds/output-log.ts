// What a world's detached processes print (worldctl logs), kept apart from its daemon's messages:
// <world>/output.log, plus the output logs of worlds merged into it, moved into
// <world>/adopted-output/ with their processes. A merge moves a file by rename, so the processes
// that still hold it open (O_APPEND) keep writing to it in its new place.
import { appendFileSync, closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { fromIo } from '../registry/io-error.js';
import type { StoreLayout } from './layout.js';

/** One file of a world's process output: its own, or one adopted from a merged world. */
export interface OutputFile {
  readonly path: string;
  /** The merged world's id for an adopted file; undefined for the world's own. */
  readonly from?: string;
}

/** A world's output files in the order they are shown: its own, then adopted ones by merge time. */
export function outputFiles(layout: StoreLayout, id: string): OutputFile[] {
  const out: OutputFile[] = [{ path: layout.outputLog(id) }];
  const dir = layout.adoptedOutputDir(id);
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.log')).sort()) {
    out.push({ path: join(dir, name), from: /^\d+-(.+)\.log$/.exec(name)?.[1] ?? name });
  }
  return out;
}

/**
 * A merged world's output goes to the ancestor, marked: a line saying so is appended to its own
 * output log, which is then moved (renamed: its processes keep writing to it) into the ancestor's
 * adopted-output/, as are the logs it had adopted itself. Idempotent: a re-run after a crash finds
 * the files moved already and does nothing more (the marker is written only while the file is
 * still in the merged world's directory; written twice at worst, never lost).
 */
export function adoptOutput(layout: StoreLayout, from: { id: string; name: string }, into: { id: string; name: string }, at: Date): void {
  const dest = layout.adoptedOutputDir(into.id);
  const own = layout.outputLog(from.id);
  const adopted = layout.adoptedOutputDir(from.id);
  const moves: [string, string][] = [];
  if (existsSync(own)) moves.push([own, join(dest, `${at.getTime()}-${from.id}.log`)]);
  if (existsSync(adopted)) for (const n of readdirSync(adopted)) moves.push([join(adopted, n), join(dest, n)]);
  if (moves.length === 0) return;
  try {
    mkdirSync(dest, { recursive: true, mode: 0o700 });
    if (existsSync(own)) {
      appendFileSync(own, `--- worldctl: world ${JSON.stringify(from.name)} (${from.id}) was merged into ${JSON.stringify(into.name)} ` +
        `at ${at.toISOString()}; the output of its processes continues here ---\n`, { mode: 0o600 });
    }
    for (const [src, dst] of moves) renameSync(src, dst);
  } catch (e) {
    fromIo(e, `move the output log of merged world ${from.id} to ${into.id}`, dest);
  }
}

/** Reads files from where it stopped last time: the new bytes of each, with a header when the file changes. */
export class OutputReader {
  private readonly offsets = new Map<string, number>();
  // A character split between two reads is decoded whole on the next one.
  private readonly decoders = new Map<string, StringDecoder>();
  private last: string | undefined;

  constructor(private readonly label: (f: OutputFile) => string) {}

  /** Everything written to `files` since the previous call (all of it the first time). */
  read(files: readonly OutputFile[]): string {
    let text = '';
    for (const f of files) {
      const chunk = this.readNew(f.path);
      if (chunk.length === 0) continue;
      // The world's own output needs no header unless something else was shown before it.
      if (this.last !== f.path && (f.from !== undefined || this.last !== undefined)) text += `${text.endsWith('\n') || text === '' ? '' : '\n'}==> ${this.label(f)} <==\n`;
      this.last = f.path;
      text += chunk;
    }
    return text;
  }

  private readNew(path: string): string {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return ''; // not written yet, or gone with its world
    }
    try {
      const from = this.offsets.get(path) ?? 0;
      const size = fstatSync(fd).size;
      if (size <= from) return '';
      const buf = Buffer.alloc(size - from);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(fd, buf, got, buf.length - got, from + got);
        if (n === 0) break;
        got += n;
      }
      this.offsets.set(path, from + got);
      let dec = this.decoders.get(path);
      if (!dec) this.decoders.set(path, (dec = new StringDecoder('utf8')));
      return dec.write(buf.subarray(0, got));
    } finally {
      closeSync(fd);
    }
  }
}

/** A label for an adopted file: the merged world's id and the file's name. */
export function adoptedLabel(f: OutputFile, worldName: string): string {
  return f.from === undefined ? `output of ${JSON.stringify(worldName)}` : `output of merged world ${f.from} (${basename(f.path)})`;
}
