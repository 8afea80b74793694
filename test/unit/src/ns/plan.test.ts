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
  it('enters every namespace of the init, its root and working directory; nsenter ignores Ctrl-C, the command gets it back', () => {
    expect(runArgv({ initPid: 7, command: ['ls', '-l'] })).toEqual([
      '/bin/sh', '-c', 'trap "" INT QUIT && exec "$@"', 'sh',
      'nsenter', '--target=7', '--pid', '--mount', '--uts', '--ipc', '--root', '--wd', '--', 'env', '--default-signal=INT,QUIT', 'ls', '-l']);
  });

  it('changes directory inside the world for --cwd (nsenter would resolve it on the host)', () => {
    expect(runArgv({ initPid: 7, cwd: '/srv', command: ['pwd'] }).slice(-4)).toEqual(['env', '--default-signal=INT,QUIT', '--chdir=/srv', 'pwd']);
  });

  it('rootless: also enters the user namespace, keeping the caller\'s ids (root inside)', () => {
    expect(runArgv({ initPid: 7, command: ['id'], userns: true }).slice(4, 9)).toEqual(['nsenter', '--target=7', '--user', '--preserve-credentials', '--pid']);
  });

  it('refuses an empty command', () => {
    expect(() => runArgv({ initPid: 7, command: [] })).toThrow(/empty command/);
  });
});
