// FUSE passthrough (Linux 6.9+): an open answered FOPEN_PASSTHROUGH with a backing id has its read,
// write, splice and mmap served by the kernel from that layer file, never by us. Which opens get it
// (fs/README.md, "Passthrough"), and the kernel's rule this table keeps: every open of one kernel
// inode at a time is either passthrough with the same backing file, or none is (iomode.c answers
// anything else EIO). Main thread only, as every kernel request.
import { fstatSync } from 'node:fs';
import { fuseBackingClose, fuseBackingOpen } from '../../../src/host/syscalls.js';
import { hostKeyOf } from '../../union/attr.js';
import type { FuseDevice } from './device.js';

/** The backing-file ioctls of one connection. */
export interface BackingFiles {
  /** A backing id for the regular file open as `fd`; throws an Error with `code` (EPERM, ELOOP, ...). */
  open(fd: number): number;
  close(id: number): void;
}

export function backingFilesOf(device: FuseDevice): BackingFiles {
  return { open: (fd) => fuseBackingOpen(device.fd, fd), close: (id) => fuseBackingClose(device.fd, id) };
}

/**
 * How to answer one open: `backingId` > 0 for passthrough; 0 for an open we serve; `conflict`
 * when neither is allowed now (the node's open files are of another host file, passthrough or
 * served: the file was copied up under them), which the caller resolves by giving the name a new node.
 */
export type OpenMode = number | 'conflict';

interface Backing {
  readonly id: number;
  /** "dev:ino" of the host file: every later passthrough open of the node must be to the same one. */
  readonly key: string;
  readonly handles: Set<number>;
}

const errCode = (e: unknown) => (e as NodeJS.ErrnoException | null)?.code;

const S_ISUID = 0o4000;
const S_ISGID = 0o2000;
const S_IXGRP = 0o010;

/**
 * A write to this file by a caller without CAP_FSETID must drop setuid (and setgid with group
 * execute): we do that when the kernel says so in WRITE (HANDLE_KILLPRIV_V2), but a passthrough
 * write reaches the layer file with the daemon's credentials, which keep both. Such files are
 * written through us. (A mode set while the file is open for writing is not seen here.)
 */
export function dropsPrivsOnWrite(mode: number): boolean {
  return (mode & S_ISUID) !== 0 || (mode & (S_ISGID | S_IXGRP)) === (S_ISGID | S_IXGRP);
}

/** What the decision needs of the host file: its identity and mode. */
type FdStat = { readonly dev: bigint; readonly ino: bigint; readonly mode: bigint };

export class PassthroughTable {
  private backing: BackingFiles | undefined;
  /** Nodes with passthrough handles open, by node id. */
  private readonly byNode = new Map<number, Backing>();
  /**
   * Nodes with handles open that we serve (passthrough would fail while they are), by node id:
   * each handle with the "dev:ino" of its host file, where the opener said.
   */
  private readonly served = new Map<number, Map<number, string | undefined>>();
  /** Each open handle's node, and whether it is passthrough. */
  private readonly handles = new Map<number, { readonly node: number; readonly passthrough: boolean }>();
  /** Opens answered with passthrough, and opens that wanted it and were served by us instead. */
  readonly counters = { passthroughOpens: 0, passthroughFallbacks: 0 };

  /** Passthrough was negotiated at INIT: opens may get it from now on. */
  enable(backing: BackingFiles): void {
    this.backing = backing;
  }

  /** Whether opens may get passthrough (negotiated, and not refused for lack of privilege). */
  get enabled(): boolean {
    return this.backing !== undefined;
  }

  /**
   * Decide the open of handle `fh` (host descriptor `fd`) on node `node`: a read-only open, or any
   * open of a top-layer file of its own (`own`), may be passthrough (fs/README.md says which), but
   * not a writing open of a file whose write must drop setuid/setgid (see `dropsPrivsOnWrite`).
   * Records the handle unless the answer is `conflict`. `openStat`: `fd`'s fstat, when the
   * opener has it. `cached`: the opener would rather have the kernel's page cache serve it (a
   * small read-only file whose layer is watched), which it gets unless the node is passthrough now.
   */
  open(node: number, fh: number, fd: number, readOnly: boolean, own: boolean, openStat?: FdStat, cached = false): OpenMode {
    const b = this.byNode.get(node);
    const openKey = openStat !== undefined ? hostKeyOf(openStat.dev, openStat.ino) : undefined;
    // Served handles of another host file (the copy this node had before a copy-up): the kernel
    // inode's page cache would mix both files' data, the old handles reading the new copy's pages
    // while cached and their own file once evicted. The name moves to a new node instead, as when
    // passthrough handles hold the old copy: every handle of the old copy keeps reading it.
    if (openKey !== undefined && this.servesOther(node, openKey)) return 'conflict';
    if (cached && readOnly && !b) return this.serve(node, fh, openKey);
    let st: FdStat | undefined;
    if (this.backing && (own || readOnly)) st = openStat ?? fstatSync(fd, { bigint: true });
    const wanted = st !== undefined && (readOnly || !dropsPrivsOnWrite(Number(st.mode)));
    if (!wanted || !this.backing || this.served.has(node)) {
      if (b) return 'conflict';
      if (wanted && this.backing) this.counters.passthroughFallbacks++;
      return this.serve(node, fh, openKey);
    }
    const key = openKey ?? hostKeyOf(st!.dev, st!.ino);
    if (b) {
      if (b.key !== key) return 'conflict';
      b.handles.add(fh);
      this.handles.set(fh, { node, passthrough: true });
      this.counters.passthroughOpens++;
      return b.id;
    }
    let id: number;
    try {
      id = this.backing.open(fd);
    } catch (e) {
      // EPERM: no CAP_SYS_ADMIN in the initial user namespace (a rootless daemon): never again.
      // ELOOP (a layer on a stacked filesystem), EINVAL and the rest: this file only.
      if (errCode(e) === 'EPERM') this.backing = undefined;
      this.counters.passthroughFallbacks++;
      return this.serve(node, fh, key);
    }
    this.byNode.set(node, { id, key, handles: new Set([fh]) });
    this.handles.set(fh, { node, passthrough: true });
    this.counters.passthroughOpens++;
    return id;
  }

  private serve(node: number, fh: number, key: string | undefined): 0 {
    let handles = this.served.get(node);
    if (!handles) this.served.set(node, (handles = new Map()));
    handles.set(fh, key);
    this.handles.set(fh, { node, passthrough: false });
    return 0;
  }

  /** Whether `node` has served handles open on a host file other than `key`'s. */
  private servesOther(node: number, key: string): boolean {
    const handles = this.served.get(node);
    if (!handles) return false;
    for (const k of handles.values()) if (k !== undefined && k !== key) return true;
    return false;
  }

  /** Whether node `node` has passthrough handles open. */
  isPassthrough(node: number): boolean {
    return this.byNode.has(node);
  }

  /**
   * Handle `fh` was released. The node's backing id is closed with its last passthrough handle
   * (the kernel's files keep their backing file; a later open asks for a new id).
   */
  release(fh: number): void {
    const h = this.handles.get(fh);
    if (!h) return;
    this.handles.delete(fh);
    if (!h.passthrough) {
      const handles = this.served.get(h.node);
      handles?.delete(fh);
      if (handles?.size === 0) this.served.delete(h.node);
      return;
    }
    const b = this.byNode.get(h.node);
    if (!b) return;
    b.handles.delete(fh);
    if (b.handles.size > 0) return;
    this.byNode.delete(h.node);
    try {
      this.backing?.close(b.id);
    } catch (e) {
      process.stderr.write(`worldfs: closing backing id ${b.id} failed: ${(e as Error).message}\n`);
    }
  }

  /** Open backing ids (a leak would grow it). */
  get backingIds(): number {
    return this.byNode.size;
  }
}
