// Where things live in a world store (documented in the README):
//   <home>/worlds.xml            the world graph (src/registry)
//   <home>/worlds.lock           the registry lock
//   <home>/journal/              intent journal of a merge in progress
//   <home>/worlds/<id>/layer     the world's own layer
//   <home>/worlds/<id>/work      its work directory (atomic copy-up)
//   <home>/worlds/<id>/seen      what each changed path showed before its first change (merge conflicts)
//   <home>/worlds/<id>/daemon    pid, start time and mountpoint of the worldfs serving it
//   <home>/worlds/<id>/worldfs.log   the daemon's and the init's own messages
//   <home>/worlds/<id>/output.log    what its detached processes print (worldctl logs)
//   <home>/worlds/<id>/adopted-output/  output.log files of worlds merged into it (their processes moved here)
//   <home>/worlds/<id>/init      pid and start time of its init (PID 1 of its namespaces)
//   <home>/worlds/<id>/start.lock  held while its view is mounted or its init started (start-lock.ts)
//   <home>/worlds/<id>/pidns     the PID namespaces it owns (rootless membership, src/ns/membership.ts)
//   <home>/worlds/<id>/aliases   daemons still serving merged children's views as aliases of this one
//   <home>/stacks/<id>.json      the layer stack its daemon switched to (merges), <id>.nodes its node journal
//   <home>/mnt/<id>              its default mountpoint (outside the world's directory: a
//                                recursive removal of that directory never walks into a mount)
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { World } from '../registry/model.js';

/** The store's home: --home, else WORLDOS_HOME, else /var/lib/worldos as root, else $XDG_DATA_HOME/worldos. */
export function defaultHome(env: NodeJS.ProcessEnv = process.env, isRoot = process.getuid?.() === 0): string {
  if (env.WORLDOS_HOME) return resolve(env.WORLDOS_HOME);
  if (isRoot) return '/var/lib/worldos';
  return join(env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'worldos');
}

export class StoreLayout {
  constructor(readonly home: string) {}
  get registryFile(): string { return join(this.home, 'worlds.xml'); }
  get journalDir(): string { return join(this.home, 'journal'); }
  worldDir(id: string): string { return join(this.home, 'worlds', id); }
  /** A world's layer directory (the base's is absolute, the others live in the store). */
  layer(w: World): string { return isAbsolute(w.layer) ? w.layer : join(this.home, w.layer); }
  work(id: string): string { return join(this.worldDir(id), 'work'); }
  seenLog(id: string): string { return join(this.worldDir(id), 'seen'); }
  defaultMount(id: string): string { return join(this.home, 'mnt', id); }
  initFile(id: string): string { return join(this.worldDir(id), 'init'); }
  pidnsFile(id: string): string { return join(this.worldDir(id), 'pidns'); }
  aliasesFile(id: string): string { return join(this.worldDir(id), 'aliases'); }
  /** Read by the daemon serving world `id`'s mount on SIGUSR1 (outlives the world: aliases). */
  stackFile(id: string): string { return join(this.home, 'stacks', `${id}.json`); }
  daemonFile(id: string): string { return join(this.worldDir(id), 'daemon'); }
  /** The node journal of the daemon serving world `id`'s mount, for a takeover (outlives the world, as its aliases do). */
  nodeJournal(id: string): string { return join(this.home, 'stacks', `${id}.nodes`); }
  /** Held while a world's view is mounted or its init started: one daemon, one view, one init, whatever runs at once. */
  startLock(id: string): string { return join(this.worldDir(id), 'start.lock'); }
  logFile(id: string): string { return join(this.worldDir(id), 'worldfs.log'); }
  /** The output of the world's detached processes, apart from the daemon's messages (output-log.ts). */
  outputLog(id: string): string { return join(this.worldDir(id), 'output.log'); }
  /** Output logs of merged worlds, moved here with their processes: `<ms since epoch>-<id>.log`. */
  adoptedOutputDir(id: string): string { return join(this.worldDir(id), 'adopted-output'); }
  /** The layer path stored in the registry for a new world. */
  static layerRel(id: string): string { return `worlds/${id}/layer`; }
}
