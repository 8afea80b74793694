// Launch plans as data: which namespaces a world's init and a command get, as root and rootless.
import { describe, expect, it } from 'vitest';
import { initArgv, runArgv } from '../../../../src/ns/plan.js';

const INIT = { root: '/v', hostname: 'W', initBin: '/bin/worldinit' };

describe('initArgv', () => {
  it('as root: new PID, mount, UTS and IPC namespaces, private propagation, no user namespace', () => {
    expect(initArgv(INIT)).toEqual(['unshare', '--pid', '--mount', '--uts', '--ipc', '--fork', '--propagation', 'private', '--', '/bin/worldinit', '/v', 'W']);
  });

  it('nests in the first parent\'s PID namespace through its init', () => {
    expect(initArgv({ ...INIT, nestInPid: 42 }).slice(0, 5)).toEqual(['nsenter', '--target=42', '--pid', '--', 'unshare']);
  });

  it('rootless, outermost: its own user namespace mapping the caller to root', () => {
    expect(initArgv({ ...INIT, userns: true }).slice(0, 4)).toEqual(['unshare', '--user', '--map-root-user', '--pid']);
  });

  it('rootless, nested: joins the parent\'s user namespace (keeping its ids) and makes none of its own', () => {
    const argv = initArgv({ ...INIT, userns: true, nestInPid: 42 });
    expect(argv.slice(0, 7)).toEqual(['nsenter', '--target=42', '--user', '--preserve-credentials', '--pid', '--', 'unshare']);
    expect(argv).not.toContain('--map-root-user');
  });

  it('joins a cgroup before exec when given one, so every descendant is a member', () => {
    const argv = initArgv({ ...INIT, cgroupProcs: '/cg/w1/cgroup.procs' });
    expect(argv.slice(0, 4)).toEqual(['/bin/sh', '-c', 'echo $$ > "$0" && exec "$@"', '/cg/w1/cgroup.procs']);
    expect(argv[4]).toBe('unshare');
  });
});

describe('runArgv', () => {
  const E = '/x/worldenter';
  it('runs the command through worldenter with the init\'s pid, nothing in front of the command', () => {
    expect(runArgv({ initPid: 7, enterBin: E, command: ['ls', '-l'] })).toEqual([E, '7', '--', 'ls', '-l']);
  });

  it('joins the cgroup, names the world and relays signals when asked', () => {
    expect(runArgv({ initPid: 7, enterBin: E, command: ['id'], cgroupProcs: '/cg/procs', world: 'w', relayFd: 3 }))
      .toEqual([E, '--cgroup', '/cg/procs', '--world', 'w', '--relay', '3', '7', '--', 'id']);
  });

  it('passes --cwd to worldenter (which changes directory inside the world), but not for /', () => {
    expect(runArgv({ initPid: 7, enterBin: E, cwd: '/srv', command: ['pwd'] })).toEqual([E, '--cwd', '/srv', '7', '--', 'pwd']);
    expect(runArgv({ initPid: 7, enterBin: E, cwd: '/', command: ['pwd'] })).toEqual([E, '7', '--', 'pwd']);
  });

  it('rootless: also enters the user namespace, keeping the caller\'s ids (root inside)', () => {
    expect(runArgv({ initPid: 7, enterBin: E, command: ['id'], userns: true })).toEqual([E, '--user', '7', '--', 'id']);
  });

  it('refuses an empty command', () => {
    expect(() => runArgv({ initPid: 7, enterBin: E, command: [] })).toThrow(/empty command/);
  });
});
