// WorldError: the one error currency of world operations (create, delete, merge, list, the registry).
// Mapped to an exit code exactly once, in the CLI; keeps the original failure as `cause` (as execa does).

/** Stable codes; callers test these, never the message. */
export type WorldErrorCode =
  | 'BAD_NAME'          // a world name the rules reject (src/core/names.ts)
  | 'NO_SUCH_WORLD'     // a name or id that is not in the registry
  | 'EXISTS'            // a name, id or registry that already exists
  | 'HAS_CHILDREN'      // deleting a world other worlds descend from
  | 'NOT_ANCESTOR'      // merging into a world that is not an ancestor
  | 'NO_LINEARISATION'  // parents with no consistent layer order, or a cycle
  | 'IS_BASE'           // an operation the base world does not allow
  | 'CORRUPT_REGISTRY'  // worlds.xml is unreadable or inconsistent; never rewritten
  | 'LOCKED'            // another process held the registry lock past the timeout
  | 'READ_ONLY'         // the store is on a read-only filesystem (EROFS)
  | 'NO_SPACE'          // the store's filesystem is full (ENOSPC, EDQUOT)
  | 'CONFLICT'          // a merge found changes it may not combine
  | 'BUSY'              // a world is in use (mounted, processes running)
  | 'NOT_INITIALISED'   // no registry yet: run `worldctl init`
  | 'BAD_LAYER'         // an imported layer or image the rules refuse (src/oci/import-plan.ts); nothing was imported
  | 'IO';               // any other failure of the store's filesystem

/** Options of a WorldError: the underlying failure, and one line telling the user what to do. */
export interface WorldErrorOptions {
  readonly cause?: unknown;
  readonly hint?: string;
}

/**
 * A failed world operation. `message` says what was expected, what was found and what to do;
 * `hint`, when present, is the next command or action to try.
 */
export class WorldError extends Error {
  readonly code: WorldErrorCode;
  readonly hint?: string;
  constructor(code: WorldErrorCode, message: string, options: WorldErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WorldError';
    this.code = code;
    if (options.hint !== undefined) this.hint = options.hint;
  }
}

/** True when `e` is a WorldError with one of the given codes (any code when none are given). */
export function isWorldError(e: unknown, ...codes: WorldErrorCode[]): e is WorldError {
  return e instanceof WorldError && (codes.length === 0 || codes.includes(e.code));
}
