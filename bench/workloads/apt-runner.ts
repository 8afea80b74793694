// apt-get install of a small package from a local .deb (downloaded once with `apt-get download`,
// so no timing includes the network), in a fresh world over / against a fresh kernel-overlayfs
// chroot of / (lower /, proc/sys/dev bound in, all inside a private mount namespace that vanishes
// with its last process). After every run the host's /var/lib/dpkg/status must be unchanged and
// the package absent from the host: otherwise the run fails loudly and the session stops.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeadlineError, peakMemoryKiB, run } from '../proc.js';
import { fmtSeconds } from '../report/format.js';
import { WorldStore } from '../world-store.js';
import { aptLine, RSS_KEY, type AptSession } from './in-world.js';
import type { WorldFiguresEnv } from './in-world-runner.js';
import { q } from './workload.js';

const STATUS = '/var/lib/dpkg/status';

const hashOf = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Resolves to alarms: ways the host was changed (empty when it was left alone). */
export async function runApt(env: WorldFiguresEnv, a: AptSession): Promise<string[]> {
  const key = (k: string) => `${a.id}/${k}`;
  const failAll = (why: string) => {
    for (const f of a.figures) env.pairs.fail(key(f.key), 'world', why);
    env.pairs.fail(key('install'), 'ref', why);
    env.log(`  apt: ${why}`);
  };
  const onHost = `/usr/bin/${a.pkg}`;
  if (existsSync(onHost)) {
    failAll(`${onHost} exists on the host: pick a package the host does not have`);
    return [];
  }
  const fx = env.scratch.fresh();
  const store = new WorldStore(env.repo, join(env.scratch.fresh(), 'home'), env.cleanup, env.timeoutSec);
  const alarms: string[] = [];
  try {
    let deb: string;
    try {
      await run('apt-get', ['download', a.pkg], { cwd: fx, timeoutSec: 120 });
      const file = readdirSync(fx).find((f) => f.endsWith('.deb'));
      if (!file) throw new Error('no .deb appeared');
      deb = join(fx, file);
      await store.init();
    } catch (e) {
      failAll(`setup: ${(e as Error).message}`);
      return alarms;
    }
    const line = aptLine(deb, a.pkg);
    const status = hashOf(STATUS);
    const checkHost = (after: string) => {
      const why = hashOf(STATUS) !== status ? `${STATUS} changed` : existsSync(onHost) ? `${onHost} appeared` : undefined;
      if (why) alarms.push(`HOST CHANGED after ${after}: ${why}`);
    };
    const spent = { ref: 0, world: 0 };
    const log: string[] = [];
    for (let r = 0; r < env.runs && alarms.length === 0; r++) {
      const sides = r % 2 === 0 ? (['ref', 'world'] as const) : (['world', 'ref'] as const);
      const got: string[] = [];
      for (const side of sides) {
        if (r > 0 && spent[side] + spent[side] / r > env.sessionBudgetSec) {
          env.pairs.skip(key('install'), side);
          got.push(`${side} skipped (budget)`);
          continue;
        }
        const t0 = Date.now();
        const t = side === 'ref' ? await chrootOnce(env, line, key('install')) : await worldOnce(env, store, `apt${r}`, line, key);
        spent[side] += (Date.now() - t0) / 1000;
        got.push(`${side === 'ref' ? 'chroot' : 'world'} ${t === undefined ? 'FAIL' : fmtSeconds(t)}`);
        checkHost(`the ${side === 'ref' ? 'overlayfs chroot' : 'world'}'s run ${r + 1}`);
        if (alarms.length) break;
      }
      log.push(got.join(' '));
    }
    for (const alarm of alarms) {
      env.pairs.fail(key('install'), 'world', alarm);
      env.log(`  apt: !!! ${alarm} !!!`);
    }
    env.log(`  apt: ${log.join('; ')}`);
  } finally {
    store.close();
    env.scratch.remove(fx);
  }
  return alarms;
}

/** One install in a fresh kernel-overlayfs chroot of /: the wall time of the whole unshare. */
async function chrootOnce(env: WorldFiguresEnv, line: string, key: string): Promise<number | undefined> {
  const d = env.scratch.fresh();
  for (const s of ['u', 'w', 'm']) mkdirSync(join(d, s));
  const m = join(d, 'm');
  const script = [
    'set -e',
    `mount -t overlay overlay -o ${q(`lowerdir=/,upperdir=${join(d, 'u')},workdir=${join(d, 'w')}`)} ${q(m)}`,
    `mount -t proc proc ${q(`${m}/proc`)}`,
    `mount --bind /sys ${q(`${m}/sys`)}`,
    `mount --bind /dev ${q(`${m}/dev`)}`,
    `if [ -d /dev/pts ]; then mount --bind /dev/pts ${q(`${m}/dev/pts`)}; fi`,
    `exec chroot ${q(m)} sh -c ${q(line)}`,
  ].join('\n');
  try {
    const r = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { timeoutSec: env.aptTimeoutSec, cwd: '/' });
    env.pairs.record(key, 'ref', r.seconds);
    return r.seconds;
  } catch (e) {
    return failed(env, key, 'ref', e);
  } finally {
    env.scratch.remove(d);
  }
}

/** One install in a fresh world (mounted and started first, untimed), deleted afterwards. */
async function worldOnce(env: WorldFiguresEnv, store: WorldStore, name: string, line: string, key: (k: string) => string): Promise<number | undefined> {
  try {
    try {
      await store.create(name);
      await store.runLine(name, 'true');
    } catch (e) {
      // Not the install: a failure, whatever it was (a deadline here is no lower bound of the install).
      throw new Error(`setup (create, first run): ${(e as Error).message}`);
    }
    try {
      const r = await store.runLine(name, line, env.aptTimeoutSec);
      env.pairs.record(key('install'), 'world', r.seconds);
      return r.seconds;
    } finally {
      const pid = await store.daemonPid(name).catch(() => undefined);
      const kib = pid === undefined ? undefined : peakMemoryKiB(pid);
      if (kib !== undefined) env.pairs.record(key(RSS_KEY), 'world', kib / 1024);
    }
  } catch (e) {
    return failed(env, key('install'), 'world', e);
  } finally {
    await store.delete(name).catch((e: Error) => env.log(`  apt: worldctl delete ${name}: ${e.message}`));
  }
}

function failed(env: WorldFiguresEnv, key: string, side: 'ref' | 'world', e: unknown): number | undefined {
  if (e instanceof DeadlineError) {
    env.pairs.censor(key, side, e.seconds);
    return e.seconds;
  }
  env.pairs.fail(key, side, e);
  return undefined;
}
