// A world's node budget (`worldctl create --nodes N`): its daemon runs with worldfs nodes=N, kept in
// worlds.xml, so that a walk bigger than N leaves the daemon near N nodes; a world created without
// it runs with worldfs's default.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storeOverRootEachTest, worldDaemonStats } from '../helpers/worldctl.js';

const { home, ok } = storeOverRootEachTest('worldos-budget-');

/** Create world `name` with `args`; its id. */
const create = (name: string, ...args: string[]) => (JSON.parse(ok('create', name, ...args, '--json')) as { created: { id: string } }).created.id;
/** The worldfs options world `id`'s daemon was started with. */
function daemonOptions(id: string): string[] {
  const pid = Number(readFileSync(join(home(), 'worlds', id, 'daemon'), 'utf8').split(' ')[0]);
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  return argv[argv.indexOf('-o') + 1]!.split(',');
}

describe('worldctl create --nodes', () => {
  it('starts the world\'s daemon with that budget, which a walk of /usr/share passes, and keeps it in worlds.xml', async () => {
    const id = create('small', '--nodes', '2048');
    expect(readFileSync(join(home(), 'worlds.xml'), 'utf8')).toMatch(/name="small"[^>]* nodes="2048"/);
    const listed = Number(ok('run', 'small', '--', 'sh', '-c', 'find /usr/share | wc -l').trim());
    expect(listed).toBeGreaterThan(8 * 2048); // a walk well past the budget
    expect(daemonOptions(id)).toContain('nodes=2048');
    const s = await worldDaemonStats(home(), id);
    expect(s.pruneRounds).toBeGreaterThan(0);
    // Rounds are 50 ms apart, so the walk's last names may not have been offered yet: far below
    // what it looked up all the same.
    expect(s.nodes).toBeLessThan(listed / 2);
  });

  it('leaves a world created without it to worldfs\'s default (no nodes= option)', () => {
    const id = create('plain');
    ok('run', 'plain', '--', 'true');
    expect(daemonOptions(id).some((o) => o.startsWith('nodes='))).toBe(false);
    expect(readFileSync(join(home(), 'worlds.xml'), 'utf8')).not.toMatch(/name="plain"[^>]* nodes=/);
  });
});
