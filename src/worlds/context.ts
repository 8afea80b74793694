// What every world operation needs: the registry store, the store layout, the layer-order strategy.
import type { Lineage } from '../core/lineage.js';
import { WorldError } from '../core/world-error.js';
import type { RegistryStore } from '../registry/store.js';
import type { Membership } from '../ns/membership.js';
import type { Progress } from '../progress.js';
import { findByName, type Registry, type World } from '../registry/model.js';
import type { StoreLayout } from './layout.js';

export interface WorldsContext {
  readonly store: RegistryStore;
  readonly layout: StoreLayout;
  readonly lineage: Lineage;
  /** Which processes belong to which world (cgroup as root, PID namespaces rootless). */
  readonly membership: Membership;
  /** Where long work reports how far it got (src/progress.ts); nobody by default. */
  readonly progress?: Progress;
}

/** The world called `name` (NFC-normalised), or NO_SUCH_WORLD naming what exists. */
export function mustFindByName(reg: Registry, name: string): World {
  const w = findByName(reg, name.normalize('NFC'));
  if (!w) {
    const known = reg.worlds.map((x) => x.name).join(', ');
    throw new WorldError('NO_SUCH_WORLD', `no world named ${JSON.stringify(name)}; existing worlds: ${known}`, {
      hint: 'see `worldctl list`',
    });
  }
  return w;
}

/** BUSY unless the world is active (not being merged or deleted). */
export function mustBeActive(w: World): void {
  if (w.state !== 'active') {
    throw new WorldError('BUSY', `world "${w.name}" is ${w.state === 'merging' ? 'being merged' : 'being deleted'}; ` +
      'wait for that command to finish (or run any worldctl command after it was killed: it completes the operation)');
  }
}
