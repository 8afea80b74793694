// The journal file a daemon taking over a connection reads (fs/transport/kernel/takeover-journal.ts):
// what is recorded reaches the file at flush (INIT, open decisions, the table's calls), reads back
// into the same table, is rewritten as a snapshot when restored and when it grows long, and goes
// when the connection ends.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { InodeTable } from '../../../../../fs/transport/kernel/inodes.js';
import { readJournal, TakeoverJournal, type OpenDecisions } from '../../../../../fs/transport/kernel/takeover-journal.js';

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), 'worldos-unit-journal-')); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lines = (p: string) => readFileSync(p, 'utf8').split('\n').filter((l) => l !== '');
const shape = (t: InodeTable) => [...t.all()].map((n) => `${n.id} ${t.pathOf(n) ?? '-'} ${n.nlookup} ${n.key ?? '-'}`).sort();
const INIT = Buffer.from([7, 0, 0, 0, 41, 0, 0, 0, 0, 0, 2, 0, 1, 2, 3, 4]);

describe('takeover journal', () => {
  it('writes nothing before a flush, then the INIT, the decisions and the calls; reads them back', () => {
    const path = join(dir, 'j');
    const decisions: OpenDecisions = {};
    const j = new TakeoverJournal(path, () => decisions);
    j.recordInit(INIT);
    const t = j.table;
    const d = t.lookup(t.root, 'dir', true);
    t.lookup(d, 'file', false, '8:12');
    expect(readFileSync(path, 'utf8'), 'nothing reaches the file before the reply that needs it').toBe('');
    j.flush();
    decisions.files = true;
    t.forget(d.id, 1);
    j.flush();
    expect(lines(path).map((l) => (JSON.parse(l) as unknown[])[0])).toEqual(['I', 'L', 'L', 'F', 'S']);
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
    const back = new TakeoverJournal(join(dir, 'k'), () => ({}), false);
    back.restore(readJournal(path));
    expect(shape(back.table)).toEqual(shape(t));
  });

  it('is removed when the connection ends, and a journal without INIT is refused', () => {
    const path = join(dir, 'j');
    const j = new TakeoverJournal(path, () => ({}));
    j.flush();
    expect(existsSync(path)).toBe(true);
    j.close(true);
    expect(existsSync(path)).toBe(false);
    writeFileSync(path, '["L",1,"a",true,null,false]\n');
    expect(() => readJournal(path)).toThrow(/no INIT/);
  });
});
