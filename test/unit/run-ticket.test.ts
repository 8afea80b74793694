// Run tickets (src/worlds/run-ticket.ts): the text dist/worldrun parses, and what is never written.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dropRunTicket, formatTicket, ticketFile, writeRunTicket, type RunTicket } from '../../src/worlds/run-ticket.js';

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });

function ticket(over: Partial<RunTicket> = {}): RunTicket {
  const registry = statSync(tmpdir(), { bigint: true });
  return { registry, id: 'w3', init: { pid: 10, start: '200' }, daemon: { pid: 11, start: '190' }, rootDevice: 40n, ...over };
}

describe('run tickets', () => {
  it('name the registry by device, inode, mtime in ns and size, and each process by pid and start time', () => {
    const t = ticket({ fence: '/h/worlds/w3/fence', cgroup: '/sys/fs/cgroup/freezer/worldos/x-w3/cgroup.procs' });
    const r = t.registry;
    expect(formatTicket(t)).toBe([
      'worldos-run-ticket 1',
      `registry ${r.dev} ${r.ino} ${r.mtimeNs} ${r.size}`,
      'id w3', 'init 10 200', 'daemon 11 190', 'rootdev 40',
      'fence /h/worlds/w3/fence', 'cgroup /sys/fs/cgroup/freezer/worldos/x-w3/cgroup.procs', '',
    ].join('\n'));
  });

  it('write "-" for a daemon without a fence directory and a world without a cgroup', () => {
    expect(formatTicket(ticket())).toMatch(/\nfence -\ncgroup -\n$/);
  });

  it('are never written with a value worldrun could not read back (a newline in a path)', () => {
    expect(formatTicket(ticket({ fence: '/h/a\nb/fence' }))).toBeUndefined();
    const home = mkdtempSync(join(tmpdir(), 'worldos-ticket-'));
    dirs.push(home);
    writeRunTicket(home, 'w', ticket());
    expect(readFileSync(ticketFile(home, 'w'), 'utf8')).toContain('id w3');
    writeRunTicket(home, 'w', ticket({ cgroup: 'x\ny' })); // replaces the old one by none
    expect(() => statSync(ticketFile(home, 'w'))).toThrow();
  });

  it('are named by the hex of the world\'s name (any name is one file name), private, and dropped', () => {
    const home = mkdtempSync(join(tmpdir(), 'worldos-ticket-'));
    dirs.push(home);
    expect(ticketFile(home, 'a/b ü')).toBe(join(home, 'tickets', Buffer.from('a/b ü').toString('hex')));
    writeRunTicket(home, 'a/b ü', ticket());
    expect(statSync(ticketFile(home, 'a/b ü')).mode & 0o777).toBe(0o600);
    expect(statSync(join(home, 'tickets')).mode & 0o777).toBe(0o700);
    dropRunTicket(home, 'a/b ü');
    expect(() => statSync(ticketFile(home, 'a/b ü'))).toThrow();
  });
});
