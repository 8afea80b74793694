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
  const SH = ['/bin/sh', '-c', 'trap "" INT QUIT && exec "$@"', 'sh'];
  const NSENTER = ['nsenter', '--target=7', '--pid', '--mount', '--uts', '--ipc', '--root', '--wd', '--'];
  const SHIM = ['/proc/self/fd/4', '--self', '4'];
  it('enters the world with util-linux nsenter, which execs the shim through /proc/self/fd, then the command', () => {
    expect(runArgv({ initPid: 7, shimFd: 4, command: ['ls', '-l'] })).toEqual([...SH, ...NSENTER, ...SHIM, '--', 'ls', '-l']);
  });

  it('runs nsenter with SIGINT and SIGQUIT ignored (its waiting half outlives a Ctrl-C), joining the cgroup first when given one', () => {
    const argv = runArgv({ initPid: 7, shimFd: 4, command: ['id'], cgroupProcs: '/cg/procs' });
    expect(argv.slice(0, 5)).toEqual(['/bin/sh', '-c', 'echo $$ > "$0" && trap "" INT QUIT && exec "$@"', '/cg/procs', 'nsenter']);
  });

  it('names the world and the relay fd to the shim', () => {
    expect(runArgv({ initPid: 7, shimFd: 4, command: ['id'], world: 'w', relayFd: 3 }))
      .toEqual([...SH, ...NSENTER, ...SHIM, '--world', 'w', '--relay', '3', '--', 'id']);
  });

  it('passes --cwd to the shim (which changes directory inside the world), but not for /', () => {
    expect(runArgv({ initPid: 7, shimFd: 4, cwd: '/srv', command: ['pwd'] })).toEqual([...SH, ...NSENTER, ...SHIM, '--cwd', '/srv', '--', 'pwd']);
    expect(runArgv({ initPid: 7, shimFd: 4, cwd: '/', command: ['pwd'] })).toEqual([...SH, ...NSENTER, ...SHIM, '--', 'pwd']);
  });

  it('rootless: also enters the user namespace, keeping the caller\'s ids (root inside)', () => {
    expect(runArgv({ initPid: 7, shimFd: 4, command: ['id'], userns: true }).slice(4, 8)).toEqual(['nsenter', '--target=7', '--user', '--preserve-credentials']);
  });

  it('refuses an empty command', () => {
    expect(() => runArgv({ initPid: 7, shimFd: 4, command: [] })).toThrow(/empty command/);
  });
});
