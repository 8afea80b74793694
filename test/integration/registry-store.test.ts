import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { fileURLToPath } from 'node:url';
import { RegistryStore } from '../../src/registry/store.js';
import { encodeRegistry } from '../../src/registry/codec.js';
import { addWorld, initialRegistry, nextWorldId, type Registry } from '../../src/registry/model.js';
import { processStartTime } from '../../src/registry/lock-file.js';
import { WorldError } from '../../src/core/world-error.js';

const CREATED = '2026-11-26T12:00:00.000Z';
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const COUNTER = fileURLToPath(new URL('fixtures/increment-counter.ts', import.meta.url));
const IS_ROOT = process.getuid?.() === 0;

let dir: string;
let mounts: string[];
let children: ChildProcess[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'worldos-registry-'));
  mounts = [];
  children = [];
});

afterEach(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const m of mounts.reverse()) spawnSync('umount', [m]);
  rmSync(dir, { recursive: true, force: true });
});

function baseRegistry(...names: string[]): Registry {
  let reg = initialRegistry({ name: 'base', created: CREATED, whiteout: 'aufs', layer: '/' });
  for (const name of names) {
    const id = nextWorldId(reg);
    reg = addWorld(reg, { id, name, parents: ['w0'], created: CREATED, state: 'active', whiteout: 'aufs', layer: `worlds/${id}/layer` });
  }
  return reg;
}

function initialised(home = join(dir, 'home'), ...names: string[]): RegistryStore {
  const store = new RegistryStore(home);
  store.create(baseRegistry(...names));
  return store;
}

function worldError(fn: () => unknown): WorldError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(WorldError);
    return e as WorldError;
  }
  throw new Error('expected a WorldError');
}

function addOne(store: RegistryStore, name: string): string {
  return store.update((reg) => {
    const id = nextWorldId(reg);
    return { registry: addWorld(reg, { ...reg.worlds[0]!, id, name, parents: ['w0'], base: undefined, layer: `worlds/${id}/layer` }), result: id };
  });
}

/**
 * Transpile `entry` and the relative imports it reaches into plain ESM under `outDir` (types are
 * checked by tsc elsewhere), with node_modules linked in; returns the entry's .js path.
 */
function transpileTree(entry: string, outDir: string): string {
  const js = (file: string): string => join(outDir, relative(REPO, file)).replace(/\.ts$/, '.js');
  const seen = new Set<string>();
  for (const queue = [entry]; queue.length > 0;) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const source = readFileSync(file, 'utf8');
    const { outputText } = ts.transpileModule(source, {
      fileName: file, compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    });
    mkdirSync(dirname(js(file)), { recursive: true });
    writeFileSync(js(file), outputText);
    for (const m of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) queue.push(resolve(dirname(file), `${m[1]}.ts`));
  }
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  symlinkSync(join(REPO, 'node_modules'), join(outDir, 'node_modules'));
  return js(entry);
}

/** A live process we can name as a lock holder; killed in afterEach. */
function sleeper(seconds: number): ChildProcess {
  const child = spawn('sleep', [String(seconds)], { stdio: 'ignore' });
  children.push(child);
  return child;
}

describe('RegistryStore', () => {
  it('creates a registry that reads back equal, and refuses to create it twice', () => {
    const store = initialised();
    expect(store.read()).toEqual(baseRegistry());
    expect(worldError(() => store.create(baseRegistry())).code).toBe('EXISTS');
  });

  it('answers NOT_INITIALISED, with a hint to run worldctl init, when there is no registry', () => {
    const missingHome = new RegistryStore(join(dir, 'nowhere'));
    for (const attempt of [() => missingHome.read(), () => missingHome.update((r) => ({ registry: r, result: 0 }))]) {
      const e = worldError(attempt);
      expect(e.code).toBe('NOT_INITIALISED');
      expect(e.hint).toBe('run `worldctl init`');
    }
    mkdirSync(join(dir, 'empty'));
    expect(worldError(() => new RegistryStore(join(dir, 'empty')).read()).code).toBe('NOT_INITIALISED');
  });

  it('applies an update, returns its result, and leaves only worlds.xml behind (no temp or lock file)', () => {
    const store = initialised();
    for (let i = 0; i < 5; i++) expect(addOne(store, `w-${i}`)).toBe(`w${i + 1}`);
    expect(store.read().worlds.map((w) => w.name)).toEqual(['base', 'w-0', 'w-1', 'w-2', 'w-3', 'w-4']);
    expect(readdirSync(store.home)).toEqual(['worlds.xml']);
  });

  it('writes the canonical encoding', () => {
    const store = initialised();
    addOne(store, 'a&b');
    expect(readFileSync(store.file, 'utf8')).toBe(encodeRegistry(store.read()));
  });

  it('does not rewrite the file when an update returns the registry unchanged', () => {
    const store = initialised();
    const before = statSync(store.file);
    expect(store.update((reg) => ({ registry: reg, result: 'same' }))).toBe('same');
    expect(statSync(store.file).ino).toBe(before.ino);
  });

  it('replaces the file by rename (a reader holding the old file keeps the old version)', () => {
    const store = initialised();
    const before = statSync(store.file).ino;
    addOne(store, 'x');
    expect(statSync(store.file).ino).not.toBe(before);
  });

  it('leaves the file and the lock untouched when the update function throws', () => {
    const store = initialised();
    const bytes = readFileSync(store.file);
    expect(() => store.update(() => { throw new Error('boom'); })).toThrow('boom');
    expect(readFileSync(store.file)).toEqual(bytes);
    expect(readdirSync(store.home)).toEqual(['worlds.xml']);
    addOne(store, 'after');
  });

  it('removes temp files left by a writer that died mid-write', () => {
    const store = initialised();
    writeFileSync(join(store.home, '.worlds.xml.999999.deadbeef.tmp'), '<half');
    addOne(store, 'x');
    expect(readdirSync(store.home)).toEqual(['worlds.xml']);
  });

  it('refuses a corrupt registry with its path and line, and never rewrites it', () => {
    const store = initialised();
    const corrupt = readFileSync(store.file, 'utf8').replace('state="active"', 'state="paused"');
    writeFileSync(store.file, corrupt);
    let called = false;
    const e = worldError(() => store.update((r) => { called = true; return { registry: r, result: 0 }; }));
    expect(e.code).toBe('CORRUPT_REGISTRY');
    expect(e.message).toContain(`${store.file}: registry is corrupt: line 3: `);
    expect(e.message).toContain('state="paused"');
    expect(called).toBe(false);
    expect(readFileSync(store.file, 'utf8')).toBe(corrupt);
    expect(readdirSync(store.home)).toEqual(['worlds.xml']);
  });

  it('refuses a registry that is not valid UTF-8, naming the line', () => {
    const store = initialised();
    const text = readFileSync(store.file);
    const at = text.indexOf('name="base"') + 6;
    writeFileSync(store.file, Buffer.concat([text.subarray(0, at), Buffer.from([0xc3, 0x28]), text.subarray(at)]));
    const e = worldError(() => store.read());
    expect(e.code).toBe('CORRUPT_REGISTRY');
    expect(e.message).toMatch(/line 3: bytes that are not UTF-8/);
  });

  it('refuses to write a registry it could not read back (a bug in the caller)', () => {
    const store = initialised();
    const bytes = readFileSync(store.file);
    const bad = (reg: Registry): Registry => ({ ...reg, worlds: [...reg.worlds, { ...reg.worlds[0]!, id: 'w1' }] });
    expect(() => store.update((reg) => ({ registry: bad(reg), result: 0 }))).toThrow(/bug: refusing to write an inconsistent registry/);
    expect(readFileSync(store.file)).toEqual(bytes);
  });

  it('loses no update when 20 processes each make 10 concurrent updates', async () => {
    const store = initialised(join(dir, 'home'), 'counter-0');
    const counter = transpileTree(COUNTER, join(dir, 'js')); // 20 tsx start-ups cost far more than one transpile
    const runs = Array.from({ length: 20 }, () => new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [counter, store.home, '10'], { stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(child);
      let stderr = '';
      child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('close', (code) => resolve({ code, stderr }));
    }));
    const results = await Promise.all(runs);
    expect(results.filter((r) => r.code !== 0)).toEqual([]);
    expect(store.read().worlds.map((w) => w.name)).toEqual(['base', 'counter-200']);
    expect(readdirSync(store.home)).toEqual(['worlds.xml']);
  });

  describe('its lock', () => {
    it('is broken when its holder pid is dead', () => {
      const store = initialised();
      const dead = spawnSync('true').pid!;
      writeFileSync(store.lockFile, `${dead} 12345\n`);
      addOne(store, 'x');
      expect(readdirSync(store.home)).toEqual(['worlds.xml']);
    });

    it('is broken when its pid is alive but was reused (different start time)', () => {
      const store = initialised();
      const live = sleeper(30);
      writeFileSync(store.lockFile, `${live.pid} 1\n`);
      addOne(store, 'x');
      expect(readdirSync(store.home)).toEqual(['worlds.xml']);
    });

    it('times out with LOCKED naming a live holder, and leaves its lock in place', () => {
      const store = new RegistryStore(initialised().home, { lockTimeoutMs: 300 });
      const live = sleeper(30);
      const held = `${live.pid} ${processStartTime(live.pid!)}\n`;
      writeFileSync(store.lockFile, held);
      const started = performance.now();
      const e = worldError(() => addOne(store, 'x'));
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      expect(e.code).toBe('LOCKED');
      expect(e.message).toContain(`is held by pid ${live.pid} (sleep 30)`);
      expect(e.hint).toBe(`ps -o pid,etime,args -p ${live.pid}`);
      expect(readFileSync(store.lockFile, 'utf8')).toBe(held);
    });

    it('is taken once a live holder exits, even before its parent reaps it (a zombie holds nothing)', () => {
      const store = initialised();
      const shortLived = sleeper(0.5);
      writeFileSync(store.lockFile, `${shortLived.pid} ${processStartTime(shortLived.pid!)}\n`);
      const started = performance.now();
      addOne(store, 'x'); // blocks this thread, so the exited child stays unreaped meanwhile
      expect(performance.now() - started).toBeGreaterThanOrEqual(400);
      expect(store.read().worlds.map((w) => w.name)).toEqual(['base', 'x']);
    });

    it('is broken when it names no holder and is older than the grace period, but not when fresh', () => {
      const store = new RegistryStore(initialised().home, { lockTimeoutMs: 200 });
      writeFileSync(store.lockFile, '');
      const e = worldError(() => addOne(store, 'x'));
      expect(e.code).toBe('LOCKED');
      expect(e.message).toContain('an unknown process (the lock file names no pid)');
      const old = (Date.now() - 60_000) / 1000;
      utimesSync(store.lockFile, old, old);
      addOne(store, 'x');
      expect(readdirSync(store.home)).toEqual(['worlds.xml']);
    });

    it('is not re-entrant: an update inside an update is a bug, not a wait', () => {
      const store = initialised();
      expect(() => store.update(() => store.update((r) => ({ registry: r, result: 0 })))).toThrow(/not re-entrant/);
      expect(readdirSync(store.home)).toEqual(['worlds.xml']);
    });
  });

  describe.skipIf(!IS_ROOT)('on a filesystem that fails', () => {
    function tmpfs(options: string): string {
      const at = join(dir, `mnt${mounts.length}`);
      mkdirSync(at);
      execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', at]);
      mounts.push(at);
      return at;
    }

    it('answers READ_ONLY on a read-only store, which still reads', () => {
      const at = tmpfs('size=1m');
      const store = initialised(join(at, 'home'), 'a');
      execFileSync('mount', ['-o', 'remount,ro', at]);
      const e = worldError(() => addOne(store, 'x'));
      expect(e.code).toBe('READ_ONLY');
      expect(e.message).toContain('read-only filesystem');
      expect(store.read().worlds.map((w) => w.name)).toEqual(['base', 'a']);
    });

    it('answers NO_SPACE on a full store and leaves the registry as it was, with no stray files', () => {
      const at = tmpfs('size=64k');
      const store = initialised(join(at, 'home'), 'a');
      const bytes = readFileSync(store.file);
      try {
        writeFileSync(join(at, 'filler'), Buffer.alloc(1 << 20));
      } catch (e) {
        expect((e as NodeJS.ErrnoException).code).toBe('ENOSPC');
      }
      const e = worldError(() => addOne(store, 'x'.repeat(60)));
      expect(e.code).toBe('NO_SPACE');
      expect(readFileSync(store.file)).toEqual(bytes);
      expect(readdirSync(store.home)).toEqual(['worlds.xml']);
    });
  });
});
