// Launch plans: the argv that starts a world's init and the argv that runs a command inside a
// world, as data (after bubblewrap: decide with data, execute in one place). Pure.

export interface InitPlanInput {
  /** The world's view: the root its processes see. */
  readonly root: string;
  readonly hostname: string;
  /** Path of the worldinit binary on the host. */
  readonly initBin: string;
  /** Host pid of the first parent world's init: the new PID namespace is created inside its one. */
  readonly nestInPid?: number;
  /** The world's cgroup.procs file: the launcher joins it before exec, so everything inherits it. */
  readonly cgroupProcs?: string;
  /**
   * Rootless: the outermost world makes a user namespace mapping the caller to root (its processes
   * are root over what the caller owns, nobody over the rest); nested worlds join their parent's.
   */
  readonly userns?: boolean;
}

/** argv of the process whose child becomes the world's PID 1. */
export function initArgv(p: InitPlanInput): string[] {
  const own = p.userns && p.nestInPid === undefined ? ['--user', '--map-root-user'] : [];
  const unshare = ['unshare', ...own, '--pid', '--mount', '--uts', '--ipc', '--fork', '--propagation', 'private', '--', p.initBin, p.root, p.hostname];
  const join = p.userns ? ['--user', '--preserve-credentials'] : [];
  const nested = p.nestInPid !== undefined ? ['nsenter', `--target=${p.nestInPid}`, ...join, '--pid', '--', ...unshare] : unshare;
  return joinCgroup(p.cgroupProcs, nested);
}

export interface RunPlanInput {
  readonly initPid: number;
  /** The fd on which nsenter holds worldctl's open copy of dist/worldshim (src/ns/worldshim.c). */
  readonly shimFd: number;
  /** The world's name, for the shim's messages (a command not found says which world). */
  readonly world?: string;
  /** Working directory inside the world (absolute); default '/'. */
  readonly cwd?: string;
  readonly command: readonly string[];
  readonly cgroupProcs?: string;
  /** Rootless: also enter the world's user namespace (keeping the caller's ids: root inside). */
  readonly userns?: boolean;
  /** Foreground: the fd on which worldctl relays the signals it gets (see worldshim.c). */
  readonly relayFd?: number;
}

/**
 * argv that runs `command` inside the world whose init has host pid `initPid`: a host shell joins
 * the cgroup and ignores SIGINT and SIGQUIT (so nsenter's waiting half, in the terminal's foreground
 * group, outlives a Ctrl-C that the command handles), then execs util-linux nsenter, which enters
 * the init's namespaces and root and execs the shim through /proc/self/fd (no lookup in the view):
 * the shim changes to `cwd`, gives the command SIGINT and SIGQUIT back, runs it, relays signals,
 * and exits with its status (128+N when it died of signal N, which nsenter passes on).
 */
export function runArgv(p: RunPlanInput): string[] {
  if (p.command.length === 0) throw new Error('runArgv: empty command');
  const user = p.userns ? ['--user', '--preserve-credentials'] : [];
  const enter = ['nsenter', `--target=${p.initPid}`, ...user, '--pid', '--mount', '--uts', '--ipc', '--root', '--wd', '--'];
  const shim = [
    `/proc/self/fd/${p.shimFd}`, '--self', String(p.shimFd),
    ...(p.cwd !== undefined && p.cwd !== '/' ? ['--cwd', p.cwd] : []),
    ...(p.world !== undefined ? ['--world', p.world] : []),
    ...(p.relayFd !== undefined ? ['--relay', String(p.relayFd)] : []),
    '--',
  ];
  const join = p.cgroupProcs !== undefined ? 'echo $$ > "$0" && ' : '';
  return ['/bin/sh', '-c', `${join}trap "" INT QUIT && exec "$@"`, p.cgroupProcs ?? 'sh', ...enter, ...shim, ...p.command];
}

/** Prefix that moves the shell into a cgroup, then execs argv (so no pid escapes the cgroup). */
function joinCgroup(procs: string | undefined, argv: string[]): string[] {
  if (procs === undefined) return argv;
  return ['/bin/sh', '-c', 'echo $$ > "$0" && exec "$@"', procs, ...argv];
}
