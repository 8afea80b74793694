// Shared by the commands: the io, and the service for the --home in effect (made on first use).
import { Worlds } from '../src/worlds.js';
import type { CliIo } from './io.js';

export interface Ctx {
  readonly io: CliIo;
  home(): string;
  worlds(): Worlds;
  /** The exit code to return when the command itself succeeded (run: the command's own). */
  setExitCode(code: number): void;
}
