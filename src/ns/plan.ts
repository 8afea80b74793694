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
  /** Working directory inside the world (absolute); default '/'. */
  readonly cwd?: string;
  readonly command: readonly string[];
  readonly cgroupProcs?: string;
  /** Rootless: also enter the world's user namespace (keeping the caller's ids: root inside). */
  readonly userns?: boolean;
}

/** argv that runs `command` inside the world whose init has host pid `initPid`. */
export function runArgv(p: RunPlanInput): string[] {
  if (p.command.length === 0) throw new Error('runArgv: empty command');
  // nsenter opens --wd=DIR before it enters the root, so DIR would name a host directory: take the
  // init's working directory (the world's /) instead and change directory inside the world.
  const cwd = p.cwd === undefined || p.cwd === '/' ? [] : [`--chdir=${p.cwd}`];
  const user = p.userns ? ['--user', '--preserve-credentials'] : [];
  // Ctrl-C and Ctrl-\ go to the terminal's whole foreground group. nsenter's outer half (it forks
  // into the PID namespace and waits) must outlive them, or worldctl returns, and the terminal is
  // handed back, while the command is still handling the signal: nsenter runs with them ignored,
  // and the command gets them back (env --default-signal, inside the world).
  const enter = [
    'nsenter', `--target=${p.initPid}`, ...user, '--pid', '--mount', '--uts', '--ipc', '--root', '--wd', '--',
    'env', '--default-signal=INT,QUIT', ...cwd, ...p.command,
  ];
  return joinCgroup(p.cgroupProcs, ['/bin/sh', '-c', 'trap "" INT QUIT && exec "$@"', 'sh', ...enter]);
}

/** Prefix that moves the shell into a cgroup, then execs argv (so no pid escapes the cgroup). */
function joinCgroup(procs: string | undefined, argv: string[]): string[] {
  if (procs === undefined) return argv;
  return ['/bin/sh', '-c', 'echo $$ > "$0" && exec "$@"', procs, ...argv];
}
