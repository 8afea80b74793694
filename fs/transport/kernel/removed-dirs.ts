// Directories removed while the kernel still holds them (open, or a process's working directory):
// ext4 goes on answering fstat of them with their last attributes and nlink 0, lets fchmod, fchown
// and futimens change those, and lets /proc/self/fd/N reopen them. The host has nothing left to ask
// (a top-layer directory is gone; a lower one is whited out and must not change), so RMDIR keeps
// the attributes here, per node, as long as the node lives: a WeakMap, so FORGET ends it.
import type { Attr, HandleChange, TimeSpec } from '../../worldfs.js';
import type { Node } from './inodes.js';

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;

export class RemovedDirs {
  private readonly attrs = new WeakMap<Node, Attr>();

  /** `node` was removed; `a` are its attributes just before: kept with nlink 0 and the rmdir's ctime. */
  remember(node: Node, a: Attr): void {
    this.attrs.set(node, { ...a, nlink: 0, ctimeNs: nowNs() });
  }

  /** The attributes of removed directory `node`, or undefined when it is not one. */
  attrOf(node: Node): Attr | undefined {
    return this.attrs.get(node);
  }

  /**
   * Apply a SETATTR to removed directory `node` (mode bits, owner, times; its size is not a
   * directory's to change): the new attributes, or undefined when it is not one.
   */
  change(node: Node, c: HandleChange): Attr | undefined {
    const a = this.attrs.get(node);
    if (!a) return undefined;
    const now = nowNs();
    const time = (t: TimeSpec | undefined, old: bigint) => (t === undefined || t === 'omit' ? old : t === 'now' ? now : t);
    const id = (v: number | undefined, old: number) => (v === undefined || v === -1 || v === 0xffffffff ? old : v);
    const next: Attr = {
      ...a,
      mode: c.mode === undefined ? a.mode : (a.mode & ~0o7777) | (c.mode & 0o7777),
      uid: id(c.uid, a.uid),
      gid: id(c.gid, a.gid),
      atimeNs: time(c.atime, a.atimeNs),
      mtimeNs: time(c.mtime, a.mtimeNs),
      ctimeNs: now,
    };
    this.attrs.set(node, next);
    return next;
  }
}
