// Whether the kernel opens files (FUSE_NO_OPEN_SUPPORT) or directories (FUSE_NO_OPENDIR_SUPPORT)
// itself. The kernel offers it at INIT; the first OPEN (OPENDIR) decides, for the connection's
// life, since answering one ENOSYS switches the kernel for good; a journal keeps the decision for
// a daemon taking the connection over (takeover-journal.ts). One per kind: node-files.ts, dirs.ts.
// Pure.

/** Both kinds' decisions (undefined: not decided yet): what a journal keeps and a takeover restores. */
export interface OpenDecisions {
  files?: boolean | undefined;
  dirs?: boolean | undefined;
}

export class KernelOpens {
  /** The kernel offered it at INIT (it takes ENOSYS as "open them yourself"). */
  offered = false;
  private decided: boolean | undefined;

  /**
   * Whether this open is answered ENOSYS. The first call decides: yes where the kernel offered it
   * and the caller `wants` it. Later calls follow the first, whatever they want.
   */
  decide(wants: boolean): boolean {
    this.decided ??= this.offered && wants;
    return this.decided;
  }

  /** The decision, once made. */
  get decision(): boolean | undefined {
    return this.decided;
  }

  /** A daemon taking the connection over: the dead one decided so. */
  restore(decided: boolean): void {
    this.decided = decided;
  }

  /** Whether the kernel opens them itself: requests then carry fh 0. */
  get active(): boolean {
    return this.decided === true;
  }

  /** Whether a request's handle `fh` means "by node": 0 where the kernel opens them itself. */
  byNode(fh: number): boolean {
    return fh === 0 && this.decided === true;
  }
}
