// What a command may touch: its output streams and environment. Tests pass their own.
export interface CliIo {
  readonly stdout: (s: string) => void;
  readonly stderr: (s: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** stderr is a terminal: long work draws a progress line there (cli/progress.ts). */
  readonly stderrIsTTY?: boolean;
}

export const processIo: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  stderrIsTTY: process.stderr.isTTY === true,
};

/** Documented exit codes (README: worldctl). */
export const EXIT = { ok: 0, error: 1, usage: 2, conflict: 3, busy: 4, notFound: 5 } as const;
