// The seen log (src/host/seen-log.ts) over a real temporary file: one line per path, the first
// change only, appended while the file stays open; closed and reopened, and read back by a new log.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSeenLog, SeenLog } from '../../src/host/seen-log.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'worldos-seen-log-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('SeenLog', () => {
  it('records each path once, with what was there before its first change, as whole lines', () => {
    const file = join(dir, 'seen');
    const before = join(dir, 'obj');
    writeFileSync(before, 'x');
    const log = new SeenLog(file);
    log.record('/a', undefined);
    log.record('/b', before);
    log.record('/a', before); // not the first change: nothing
    const st = statSync(before, { bigint: true });
    expect(readFileSync(file, 'utf8')).toBe(`absent\t/a\n${st.dev}:${st.ino}:${st.ctimeNs}\t/b\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    log.close();
  });

  it('appends after a close, and a new log knows what an earlier one recorded', () => {
    const file = join(dir, 'seen');
    const log = new SeenLog(file);
    log.record('/a', undefined);
    log.close();
    log.record('/b', undefined); // opened again
    log.close();
    const again = new SeenLog(file);
    again.record('/a', undefined); // known from the file: nothing
    again.record('/c', undefined);
    again.close();
    expect([...readSeenLog(file).keys()]).toEqual(['/a', '/b', '/c']);
    expect(readFileSync(file, 'utf8').split('\n').filter(Boolean)).toHaveLength(3);
  });
});
