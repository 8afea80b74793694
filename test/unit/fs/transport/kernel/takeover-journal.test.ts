// The journal file a daemon taking over a connection reads (fs/transport/kernel/takeover-journal.ts):
// what is recorded is in the file at once (INIT, the table's calls; an open decision at the flush
// before the reply), reads back into the same table, is rewritten as a snapshot when restored and
// when it grows long or full, and goes when the connection ends.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InodeTable } from '../../../../../fs/transport/kernel/inodes.js';
import type { OpenDecisions } from '../../../../../fs/transport/kernel/kernel-opens.js';
import { readJournal, TakeoverJournal } from '../../../../../fs/transport/kernel/takeover-journal.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'worldos-unit-journal-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The records of a journal file: its lines up to the first NUL (the file is mapped at a fixed size). */
const lines = (p: string) => readFileSync(p, 'utf8').split('\0')[0]!.split('\n').filter((l) => l !== '');
const shape = (t: InodeTable) => [...t.all()].map((n) => `${n.id} ${t.pathOf(n) ?? '-'} ${n.nlookup} ${n.key ?? '-'}`).sort();
const INIT = Buffer.from([7, 0, 0, 0, 41, 0, 0, 0, 0, 0, 2, 0, 1, 2, 3, 4]);

describe('takeover journal', () => {
  it('has the INIT and the calls at once, a decision from the next flush; reads them back', () => {
    const path = join(dir, 'j');
    const decisions: OpenDecisions = {};
    const j = new TakeoverJournal(path, () => decisions);
    j.recordInit(INIT);
    const t = j.table;
    const d = t.lookup(t.root, 'dir', true);
    t.lookup(d, 'file', false, '8:12');
    expect(lines(path).map((l) => (JSON.parse(l) as unknown[])[0]), 'in the file with no flush and no write(2)').toEqual(['X', 'I', 'L', 'L']);
    j.flush();
    decisions.files = true;
    t.forget(d.id, 1);
    j.flush();
    expect(lines(path).map((l) => (JSON.parse(l) as unknown[])[0])).toEqual(['X', 'I', 'L', 'L', 'F', 'S']);
    const saved = readJournal(path);
    expect(saved.init.equals(INIT)).toBe(true);
    expect(saved.decisions).toEqual({ files: true });

    // A new daemon: the same table, the file rewritten as a snapshot, and new calls after it.
    const again = new TakeoverJournal(path, () => ({ files: true }), false);
    again.restore(saved);
    expect(shape(again.table)).toEqual(shape(t));
    expect(lines(path).map((l) => (JSON.parse(l) as unknown[])[0])).toEqual(['I', 'S', 'N', 'N', 'A', 'A', 'X']);
    const next = again.table.lookup(again.table.root, 'new', false, '8:13');
    expect(next.id, 'ids go on where the dead daemon stopped').toBe(t.lookup(t.root, 'new', false, '8:13').id);
    again.flush();
    const third = new TakeoverJournal(path, () => ({}), false);
    third.restore(readJournal(path));
    expect(shape(third.table)).toEqual(shape(t));
  });

  it('stays as long as the table is big: a long history is rewritten as a snapshot', () => {
    const path = join(dir, 'j');
    const j = new TakeoverJournal(path, () => ({}));
    j.recordInit(INIT);
    const t = j.table;
    for (let i = 0; i < 30_000; i++) {
      const n = t.lookup(t.root, `f${i % 10}`, false, `8:${i % 10}`);
      if (i % 2) t.forget(n.id, 1);
      if (i % 100 === 0) j.flush();
    }
    j.flush();
    expect(lines(path).length).toBeLessThan(12_000);
    expect(statSync(path).size, 'rewritten at the size of its snapshot, not of its history').toBeLessThanOrEqual(1 << 20);
    const back = new TakeoverJournal(join(dir, 'k'), () => ({}), false);
    back.restore(readJournal(path));
    expect(shape(back.table)).toEqual(shape(t));
  });

  it('grows when full: a table bigger than the first mapping is all there', () => {
    const path = join(dir, 'j');
    const j = new TakeoverJournal(path, () => ({}));
    j.recordInit(INIT);
    const t = j.table;
    const d = t.lookup(t.root, 'd', true);
    for (let i = 0; i < 40_000; i++) t.lookup(d, `a-rather-long-file-name-number-${i}`, false, `8:${i}`); // ~3 MiB of records
    expect(statSync(path).size).toBeGreaterThan(1 << 20);
    const back = new TakeoverJournal(join(dir, 'k'), () => ({}), false);
    back.restore(readJournal(path));
    expect(shape(back.table)).toEqual(shape(t));
  });

  it('keeps every record of a daemon killed with SIGKILL right after storing it (no write(2), no flush)', () => {
    const path = join(dir, 'j');
    const module = join(import.meta.dirname, '..', '..', '..', '..', '..', 'dist', 'fs', 'transport', 'kernel', 'takeover-journal.js');
    const child = `
      const { TakeoverJournal } = await import(${JSON.stringify(module)});
      const j = new TakeoverJournal(${JSON.stringify(path)}, () => ({}));
      j.recordInit(Buffer.from([7, 0, 0, 0, 41, 0, 0, 0]));
      const t = j.table;
      let parent = t.root;
      for (let i = 0; i < 500; i++) parent = t.lookup(parent, 'n' + i, true);
      process.kill(process.pid, 'SIGKILL');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', child]);
    expect(r.signal).toBe('SIGKILL');
    const back = new TakeoverJournal(join(dir, 'k'), () => ({}), false);
    back.restore(readJournal(path));
    expect(back.table.size).toBe(501);
    let n = back.table.root;
    for (let i = 0; i < 500; i++) n = n.children.get('n' + i)!;
    expect(back.table.pathOf(n)?.split('/').length).toBe(501);
  });

  it('is removed when the connection ends, and a journal without INIT is refused', () => {
    const path = join(dir, 'j');
    const j = new TakeoverJournal(path, () => ({}));
    expect(existsSync(path)).toBe(true);
    j.close(true);
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, '["L",1,"a",true,null,false]\n');
    expect(() => readJournal(path)).toThrow(/no INIT/);
  });
});
