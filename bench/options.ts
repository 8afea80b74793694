// The bench command line: `npm run bench -- [--quick] [--runs N] [--only A,B] [--peers A,B] ...`.
// Pure: parses strings, checks nothing on disk.

export const PEER_IDS = ['ext4', 'overlayfs', 'fuse-overlayfs', 'unionfs-fuse', 'worldfs', 'worldfs-kernel'] as const;
export type PeerId = (typeof PEER_IDS)[number];

export interface BenchOptions {
  readonly quick: boolean;
  /** Runs of every workload on every peer; the median, min and max are reported. */
  readonly runs: number;
  /** Session ids (or their group names) to run; empty = all. */
  readonly only: readonly string[];
  readonly peers: readonly PeerId[];
  /** Where the temporary layer trees and mounts live (must be a local disk; ext4 here). */
  readonly tmpdir: string;
  /** Where the .md/.json/.svg results go; undefined = bench/results. */
  readonly outDir?: string;
  /** Write no result files (for trying the suite out). */
  readonly noWrite: boolean;
  /** Extra worldfs -o options, for the speed pass (e.g. udba=none,timeout=60). */
  readonly worldfsOpts: string;
  /** Per-command deadline: a command past it is killed and its figure is a lower bound. */
  readonly timeoutSec: number;
  /** Seconds one peer may spend on one session over all its runs (the first run always happens). */
  readonly sessionBudgetSec: number;
  /** Deadline of one apt-get install (session apt: it runs dpkg triggers). */
  readonly aptTimeoutSec: number;
}

export class UsageError extends Error {}

export const USAGE = `usage: npm run bench -- [options]
  --quick             small sizes, 3 runs (under two minutes)
  --runs N            runs per workload and peer (default 3 with --quick, else 5)
  --only A,B          only these sessions or groups (lookup, readdir, copy-up, data, metadata, job, worlds,
                      in-world = everyday commands on the host and in a world over / + apt)
  --peers A,B         only these peers (${PEER_IDS.join(', ')}); ext4 is always kept as the floor
  --tmpdir DIR        where layer trees and mounts are made (default: $TMPDIR or /tmp)
  --out DIR           where results are written (default: bench/results)
  --no-write          print the table only
  --worldfs-opts O    extra worldfs -o options (e.g. udba=none,timeout=60)
  --timeout SEC       deadline for one measured command; past it the figure is reported as a
                      lower bound (default 30)
  --budget SEC        seconds one peer may spend on one session over all its runs; runs that
                      would pass it are skipped, the first always happens (default 30 quick, else 90)
  --apt-timeout SEC   deadline for one apt-get install (session apt; default 120 quick, else 600)`;

export function parseBenchArgs(argv: readonly string[], env: NodeJS.ProcessEnv = {}): BenchOptions {
  let quick = false;
  let runs: number | undefined;
  let only: string[] = [];
  let peers: PeerId[] = [...PEER_IDS];
  let tmpdir = env.TMPDIR || '/tmp';
  let outDir: string | undefined;
  let noWrite = false;
  let worldfsOpts = '';
  let timeoutSec: number | undefined;
  let sessionBudgetSec: number | undefined;
  let aptTimeoutSec: number | undefined;
  const list = (v: string) => v.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const value = (): string => {
      if (raw.startsWith('--') && eq > 0) return raw.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    switch (flag) {
      case '--quick': quick = true; break;
      case '--runs': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 1) throw new UsageError(`--runs: expected a whole number >= 1`);
        runs = n;
        break;
      }
      case '--only': only = list(value()); break;
      case '--peers': {
        const wanted = list(value());
        for (const p of wanted) {
          if (!(PEER_IDS as readonly string[]).includes(p)) throw new UsageError(`--peers: unknown peer ${p}; expected some of ${PEER_IDS.join(', ')}`);
        }
        peers = PEER_IDS.filter((p) => p === 'ext4' || wanted.includes(p));
        break;
      }
      case '--tmpdir': tmpdir = value(); break;
      case '--out': outDir = value(); break;
      case '--no-write': noWrite = true; break;
      case '--worldfs-opts': worldfsOpts = value(); break;
      case '--timeout': {
        const n = Number(value());
        if (!Number.isFinite(n) || n <= 0) throw new UsageError('--timeout: expected seconds > 0');
        timeoutSec = n;
        break;
      }
      case '--budget': {
        const n = Number(value());
        if (!Number.isFinite(n) || n <= 0) throw new UsageError('--budget: expected seconds > 0');
        sessionBudgetSec = n;
        break;
      }
      case '--apt-timeout': {
        const n = Number(value());
        if (!Number.isFinite(n) || n <= 0) throw new UsageError('--apt-timeout: expected seconds > 0');
        aptTimeoutSec = n;
        break;
      }
      case '-h': case '--help': throw new UsageError(USAGE);
      default: throw new UsageError(`unknown argument ${raw}\n${USAGE}`);
    }
  }
  return {
    quick, runs: runs ?? (quick ? 3 : 5), only, peers, tmpdir, outDir, noWrite, worldfsOpts,
    timeoutSec: timeoutSec ?? 30,
    sessionBudgetSec: sessionBudgetSec ?? (quick ? 30 : 90),
    aptTimeoutSec: aptTimeoutSec ?? (quick ? 120 : 600),
  };
}
