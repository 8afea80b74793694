// Which processes belong to a world, kept by the kernel — a strategy, so a researcher (or a machine
// without a delegable cgroup) can swap it:
//   cgroup: one cgroup per world (root; cgroup v2 where writable, else the v1 freezer: cgroup.ts).
//           Launchers are born in it or join it before exec, so every descendant is a member; a
//           merge freezes the worlds and moves members pid by pid.
//   pidns:  the world's PID namespaces (rootless). A member is a process whose PID namespace is one
//           the world owns: its init's, plus those of worlds merged into it. Nothing moves on merge;
//           the namespaces change owner. Nothing can be frozen either (see docs/processes.md).
import type { ProcessRef } from '../host/process-identity.js';
import { cgroupHierarchies, type CgroupHierarchy, type WorldCgroup } from './cgroup.js';
import { PidNamespaceRecord } from './pidns-record.js';

export interface Membership {
  readonly kind: 'cgroup' | 'pidns';
  /** A cgroup.procs file a launcher writes its own pid to before exec, if the strategy needs one. */
  joinFile(id: string): string | undefined;
  /** Record a world's init (and so its PID namespace) once it started. */
  registerInit(id: string, init: ProcessRef): void;
  /** Host pids of the world's processes. */
  pids(id: string): number[];
  /** Stop the world's processes from running (a merge in progress); a no-op where impossible. */
  freeze(id: string): void;
  thaw(id: string): void;
  /** The processes of `from` now belong to `into`. */
  adopt(from: string, into: string): void;
  /** Forget the world (its processes are gone). */
  release(id: string): void;
}

/**
 * cgroup membership. New members go to the world's cgroup in the first (preferred) hierarchy; the
 * rest acts on the world's cgroup in every hierarchy where it exists, so worlds started while another
 * hierarchy was preferred (an upgrade, a WORLDOS_CGROUP switch) are still found, stopped and merged.
 * No hierarchy at all (none writable): no cgroup, as with the pidns strategy's freezer. World ids
 * repeat across stores (w1, w2...), so a cgroup is named `<store>-<id>`, `store` a key of the store.
 */
export class CgroupMembership implements Membership {
  readonly kind = 'cgroup';
  constructor(private readonly store: string, private readonly hierarchies: readonly CgroupHierarchy[] = cgroupHierarchies()) {}
  private name(id: string): string { return `${this.store}-${id}`; }
  /** The world's cgroups that exist. */
  private existing(id: string): WorldCgroup[] { return this.hierarchies.map((h) => h.cgroup(this.name(id))).filter((c) => c.exists()); }
  joinFile(id: string): string | undefined { return this.hierarchies[0]?.cgroup(this.name(id)).ensure().procsFile; }
  registerInit(): void { /* the launcher joined the cgroup before exec */ }
  pids(id: string): number[] { return [...new Set(this.existing(id).flatMap((c) => c.pids()))]; }
  freeze(id: string): void { for (const c of this.existing(id)) c.freeze(); }
  thaw(id: string): void { for (const c of this.existing(id)) c.thaw(); }
  adopt(from: string, into: string): void {
    for (const h of this.hierarchies) {
      const src = h.cgroup(this.name(from));
      if (!src.exists()) continue;
      // Only a world that has processes gets a cgroup: a merge of files alone makes none.
      if (src.pids().length > 0) src.moveAllTo(h.cgroup(this.name(into)));
      src.thaw();
      src.remove();
    }
  }
  release(id: string): void { for (const c of this.existing(id)) c.remove(); }
}

/** PID-namespace membership: `recordFile(id)` lists the namespaces world `id` owns. */
export class PidNamespaceMembership implements Membership {
  readonly kind = 'pidns';
  constructor(private readonly recordFile: (id: string) => string) {}
  private rec(id: string): PidNamespaceRecord { return new PidNamespaceRecord(this.recordFile(id)); }
  joinFile(): undefined { return undefined; }
  registerInit(id: string, init: ProcessRef): void { this.rec(id).add(init); }
  pids(id: string): number[] { return this.rec(id).members(); }
  freeze(): void { /* no freezer without a delegated cgroup: merged processes keep running */ }
  thaw(): void { /* see freeze */ }
  adopt(from: string, into: string): void {
    const src = this.rec(from);
    this.rec(into).addAll(src.entries());
    src.clear();
  }
  release(id: string): void { this.rec(id).clear(); }
}

export type MembershipKind = Membership['kind'];

/**
 * The strategy for this process: WORLDOS_MEMBERSHIP=cgroup|pidns when set; otherwise cgroup where a
 * cgroup hierarchy is writable (root), pidns elsewhere (rootless).
 */
export function chooseMembership(store: string, recordFile: (id: string) => string, env: NodeJS.ProcessEnv = process.env): Membership {
  const want = env.WORLDOS_MEMBERSHIP;
  if (want !== undefined && want !== 'cgroup' && want !== 'pidns') {
    throw new Error(`WORLDOS_MEMBERSHIP=${want}: expected cgroup or pidns`);
  }
  if (want === 'pidns') return new PidNamespaceMembership(recordFile);
  const hierarchies = cgroupHierarchies(env);
  if (want === 'cgroup' || hierarchies.length > 0) return new CgroupMembership(store, hierarchies);
  return new PidNamespaceMembership(recordFile);
}
