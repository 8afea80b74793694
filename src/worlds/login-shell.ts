// The account `worldctl shell` logs into: uid 0's entry in the world's own /etc/passwd (commands
// in a world run as its root: the host's root, or the caller mapped to root rootless), read from
// the layers without a mount. No readable entry: /bin/sh with HOME=/root.
import { readFileSync } from 'node:fs';
import { accountOf, type Account } from '../core/passwd.js';
import { dataBranch } from '../core/metacopy.js';
import { toViewPath } from '../core/paths.js';
import { resolveBelow } from '../core/resolve.js';
import { mustFindByName, type WorldsContext } from './context.js';
import { hostStack } from './stack.js';

/** The uid commands run as inside a world. */
export const WORLD_UID = 0;

const FALLBACK: Account = { name: 'root', uid: WORLD_UID, home: '/root', shell: '/bin/sh' };

/** uid 0's account as world `name` shows it (FALLBACK when /etc/passwd is missing or has none). */
export function loginAccount(ctx: WorldsContext, name: string): Account {
  const reg = ctx.store.read();
  const world = mustFindByName(reg, name);
  const layers = hostStack(reg, world.id, ctx.layout, ctx.lineage);
  const etc = resolveBelow(toViewPath('/etc'), layers, layers.format, 0);
  const file = resolveBelow(toViewPath('/etc/passwd'), layers, layers.format, 0);
  // A symlinked /etc/passwd (or /etc) is not followed: it may point anywhere on the host's side.
  if (etc?.kind !== 'found' || file?.kind !== 'found' || file.node.entry.kind !== 'file') return FALLBACK;
  const b = dataBranch(file.node, etc.node, layers, layers.format);
  let text: string;
  try {
    text = readFileSync(layers.hostPath(b.layer, b.rel), 'utf8');
  } catch {
    return FALLBACK;
  }
  return accountOf(text, WORLD_UID) ?? FALLBACK;
}
