// Worlds through OCI (issue 16): export / import of a world's layer and of an image of the world
// and its ancestors, with a differential test of the views (every file, mode, owner, time, link,
// xattr, whiteout); push / pull through a real registry (Debian's docker-registry on 127.0.0.1,
// started and stopped here) with skopeo into a second store; bad layers refused, nothing imported.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync, chownSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createRequire } from 'node:module';
import tarStream from 'tar-stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { diffSnapshots, snapshotTree } from '../helpers/tree-snapshot.js';
import { WorldsFixture } from '../helpers/worldctl.js';
import { UnprivilegedUser } from '../helpers/unprivileged.js';

const xattr = createRequire(import.meta.url)('@napi-rs/xattr') as { setAttributeSync(p: string, n: string, v: string): void };

let fx: WorldsFixture;
let registry: ChildProcess | undefined;

beforeEach(async () => {
  fx = WorldsFixture.make('worldos-e2e-oci-');
  mkdirSync(join(fx.base, 'etc'));
  writeFileSync(join(fx.base, 'etc', 'gone'), 'gone\n');
  writeFileSync(join(fx.base, 'etc', 'owned'), 'owned\n');
  writeFileSync(join(fx.base, 'big'), 'x'.repeat(100_000));
  mkdirSync(join(fx.base, 'emptied', 'deep'), { recursive: true });
  writeFileSync(join(fx.base, 'emptied', 'deep', 'f'), 'f\n');
  mkdirSync(join(fx.base, 'moved', 'sub'), { recursive: true });
  writeFileSync(join(fx.base, 'moved', 'sub', 'm'), 'm\n');
  await fx.init();
});

afterEach(async () => {
  if (registry && registry.exitCode === null) {
    registry.kill('SIGKILL');
    await new Promise((r) => registry!.once('exit', r));
  }
  registry = undefined;
  await fx.cleanup();
});

/** Make in the view at `m` a change of every kind OCI must carry. */
function changeEverything(m: string): void {
  rmSync(join(m, 'etc', 'gone'));                                       // whiteout
  writeFileSync(join(m, 'etc', 'new'), 'new\n');
  linkSync(join(m, 'etc', 'new'), join(m, 'etc', 'hard'));              // hard link
  xattr.setAttributeSync(join(m, 'etc', 'new'), 'user.colour', 'blue'); // xattr
  chownSync(join(m, 'etc', 'owned'), 1234, 5678);                       // owner (metadata-only copy-up)
  chmodSync(join(m, 'big'), 0o4750);                                    // mode with setuid; metacopy: data below
  rmSync(join(m, 'emptied'), { recursive: true });                      // opaque directory
  mkdirSync(join(m, 'emptied'));
  writeFileSync(join(m, 'emptied', 'fresh'), 'fresh\n');
  renameSync(join(m, 'moved'), join(m, 'renamed'));                     // redirect
  symlinkSync('../etc/new', join(m, 'etc', 'link'));
  symlinkSync('/etc/new', join(m, 'abs'));
  spawnSync('mkfifo', [join(m, 'fifo')]);
  spawnSync('mknod', [join(m, 'null'), 'c', '1', '3']);                 // a device (root)
}

/** Everything a view shows, for comparison: the project's tree snapshot plus times and link groups. */
function viewFacts(m: string): Map<string, string> {
  const snap = new Map(snapshotTree(m));
  const byIno = new Map<number, string[]>();
  for (const p of snap.keys()) {
    const st = lstatSync(m + (p === '/' ? '' : p), { bigint: true });
    snap.set(p, `${snap.get(p)} mtime=${st.mtimeNs}`);
    if (!st.isDirectory() && st.nlink > 1n) byIno.set(Number(st.ino), [...(byIno.get(Number(st.ino)) ?? []), p]);
  }
  for (const names of byIno.values()) snap.set(`links:${names.sort().join(',')}`, 'one inode');
  return snap;
}

async function sameViews(a: { name: string; home?: string }, b: { name: string; home?: string }): Promise<Map<string, string>> {
  const ma = await fx.mount(a.name, a.home);
  const mb = await fx.mount(b.name, b.home);
  const va = viewFacts(ma);
  const vb = viewFacts(mb);
  await fx.umount(a.name, a.home);
  await fx.umount(b.name, b.home);
  expect(diffSnapshots(va, vb, [a.name, b.name])).toEqual([]);
  return va;
}

function tarNames(file: string): string[] {
  return spawnSync('tar', ['-tf', file], { encoding: 'utf8' }).stdout.trim().split('\n');
}

describe('export and import of a world\'s layer', () => {
  it.each(['aufs', 'overlay'])('%s store: gives a view identical to the original: files, modes, owners, times, links, xattrs, whiteouts', async (format) => {
    const home = format === 'aufs' ? fx.home : join(fx.root, 'home-overlay');
    if (format !== 'aufs') await fx.ok(['init', '--base', fx.base, '--whiteout', format], home);
    await fx.ok(['create', 'A'], home);
    changeEverything(await fx.mount('A', home));
    await fx.umount('A', home);
    const tar = join(fx.root, 'a.tar');
    await fx.ok(['export', 'A', '-o', tar], home);
    const names = tarNames(tar);
    expect(names).toEqual(expect.arrayContaining(['etc/.wh.gone', 'emptied/.wh..wh..opq', '.wh.moved', 'renamed/.wh..wh..opq', 'renamed/sub/m', 'etc/hard']));
    expect(names.filter((n) => n.includes('.wh..wh.') && !n.endsWith('.wh..wh..opq'))).toEqual([]); // no store bookkeeping
    const listing = spawnSync('tar', ['-tvf', tar], { encoding: 'utf8' }).stdout;
    expect(listing.split('\n').filter((l) => l.startsWith('c') && !/ null$/.test(l))).toEqual([]); // no overlay whiteouts
    expect(await fx.ok(['import', tar, '--name', 'B'], home)).toMatch(/imported world "B"/);
    const view = await sameViews({ name: 'A', home }, { name: 'B', home });
    // The comparison saw what it had to: the changes are in both views.
    expect(view.has('/etc/gone')).toBe(false);
    expect(view.has('/emptied/deep')).toBe(false);
    expect(view.get('/renamed/sub/m')).toMatch(/^file/);
    expect(view.get('/big')).toMatch(/^file 4750 0:0 size=100000/);
    expect(view.get('/etc/owned')).toMatch(/ 1234:5678 /);
    expect(view.get('/etc/new')).toMatch(/user\.colour="blue"/);
    expect(view.get('/null')).toMatch(/^chardev/);
    expect(view.get('links:/etc/hard,/etc/new')).toBe('one inode');
  });

  it('exports the same bytes twice (same digest) and imports under --from', async () => {
    await fx.ok(['create', 'P']);
    writeFileSync(join(await fx.mount('P'), 'p'), 'p\n');
    await fx.umount('P');
    await fx.ok(['create', 'A', '--from', 'P']);
    rmSync(join(await fx.mount('A'), 'p'));
    await fx.umount('A');
    const t1 = join(fx.root, '1.tar');
    const t2 = join(fx.root, '2.tar');
    await fx.ok(['export', 'A', '-o', t1]);
    await fx.ok(['export', 'A', '-o', t2]);
    expect(readFileSync(t1).equals(readFileSync(t2))).toBe(true);
    await fx.ok(['import', t1, '--name', 'B', '--from', 'P']);
    const w = await fx.worlds();
    expect(w.find((x) => x.name === 'B')!.parents).toEqual([w.find((x) => x.name === 'P')!.id]);
    const view = await sameViews({ name: 'A' }, { name: 'B' });
    expect(view.has('/p')).toBe(false);
  });
});

describe('image export of a world with several parents', () => {
  it('writes its C3-linearised ancestors as layers, bottom first, and imports them into a second store', async () => {
    await fx.ok(['create', 'P1']);
    await fx.ok(['create', 'P2']);
    let m = await fx.mount('P1');
    writeFileSync(join(m, 'shared'), 'from P1\n');
    await fx.umount('P1');
    m = await fx.mount('P2');
    writeFileSync(join(m, 'shared'), 'from P2\n');
    writeFileSync(join(m, 'only2'), '2\n');
    await fx.umount('P2');
    await fx.ok(['create', 'C', '--from', 'P1', '--from', 'P2']);
    m = await fx.mount('C');
    rmSync(join(m, 'etc', 'gone'));
    writeFileSync(join(m, 'c'), 'c\n');
    await fx.umount('C');
    const dir = join(fx.root, 'image');
    await fx.ok(['export', 'C', '--image', dir]);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    const manifest = JSON.parse(readFileSync(join(dir, 'blobs', index.manifests[0].digest.replace(':', '/')), 'utf8'));
    const config = JSON.parse(readFileSync(join(dir, 'blobs', manifest.config.digest.replace(':', '/')), 'utf8'));
    expect(manifest.layers).toHaveLength(3); // the base is not exported
    expect(config.history.map((h: { created_by: string }) => h.created_by)).toEqual(['worldos world "P2"', 'worldos world "P1"', 'worldos world "C"']);

    const home2 = join(fx.root, 'home2');
    await fx.init(home2);
    expect(await fx.ok(['import', dir], home2)).toBe('imported world "C~P2" (w1)\nimported world "C~P1" (w2)\nimported world "C" (w3)\n');
    const view = await sameViews({ name: 'C' }, { name: 'C', home: home2 });
    expect(view.get('/shared')).toBe(snapshotLine(view, '/shared'));
    expect(readFileSync(join(await fx.mount('C', home2), 'shared'), 'utf8')).toBe('from P1\n');
    await fx.umount('C', home2);
    expect(view.has('/only2')).toBe(true);
  });
});

function snapshotLine(view: Map<string, string>, p: string): string {
  return view.get(p)!;
}

/** A layer tar with these entries (made with tar-stream, as another tool would). */
async function craftTar(file: string, entries: { name: string; type?: string; body?: string | Buffer; linkname?: string }[]): Promise<void> {
  const pack = tarStream.pack();
  const done = pipeline(pack, createWriteStream(file));
  for (const e of entries) {
    await new Promise<void>((res, rej) => pack.entry({ name: e.name, type: (e.type ?? 'file') as 'file', linkname: e.linkname, mode: 0o644 }, e.body ?? Buffer.alloc(0), (err) => (err ? rej(err) : res())));
  }
  pack.finalize();
  await done;
}

describe('import of layers other tools made', () => {
  it('gives directories a layer only implies the attributes the parent view shows there', async () => {
    chmodSync(join(fx.base, 'etc'), 0o750);
    const file = join(fx.root, 'implied.tar');
    await craftTar(file, [{ name: 'etc/added', body: 'a\n' }, { name: 'new/dir/f', body: 'f\n' }]);
    await fx.ok(['import', file, '--name', 'I']);
    const m = await fx.mount('I');
    const etc = lstatSync(join(m, 'etc'), { bigint: true });
    const base = lstatSync(join(fx.base, 'etc'), { bigint: true });
    expect([etc.mode, etc.mtimeNs]).toEqual([base.mode, base.mtimeNs]);
    expect(readFileSync(join(m, 'etc', 'gone'), 'utf8')).toBe('gone\n'); // merged, not replaced
    expect(lstatSync(join(m, 'new', 'dir')).mode & 0o7777).toBe(0o755);
    await fx.umount('I');
  });

  it('exports the base too with --with-base, giving the same view over an empty base', async () => {
    await fx.ok(['create', 'A']);
    changeEverything(await fx.mount('A'));
    await fx.umount('A');
    const dir = join(fx.root, 'image');
    await fx.ok(['export', 'A', '--image', dir, '--with-base']);
    const empty = join(fx.root, 'empty');
    mkdirSync(empty);
    const home2 = join(fx.root, 'home2');
    await fx.ok(['init', '--base', empty], home2);
    expect(await fx.ok(['import', dir], home2)).toBe('imported world "A~base" (w1)\nimported world "A" (w2)\n');
    const view = await sameViews({ name: 'A' }, { name: 'A', home: home2 });
    expect(view.has('/renamed/sub/m')).toBe(true);
  });
});

describe('import refuses bad input with a clear message and imports nothing', () => {
  it.each([
    ['an absolute path', [{ name: 'ok' }, { name: '/etc/evil' }], /"\/etc\/evil" is absolute/],
    ['a path with ..', [{ name: 'a/../../evil' }], /contains "\.\."/],
    ['a symlink pointing out', [{ name: 'd/', type: 'directory' }, { name: 'd/l', type: 'symlink', linkname: '../../../etc' }], /outside the layer's root/],
    ['a write through a symlink', [{ name: 'l', type: 'symlink', linkname: '/etc' }, { name: 'l/passwd', body: 'x' }], /lies below "l"/],
    ['not a tar at all', 'garbage', /not a readable layer tar|refusing/],
  ])('%s', async (_what, entries, message) => {
    const file = join(fx.root, 'bad.tar');
    if (typeof entries === 'string') writeFileSync(file, entries.repeat(1000));
    else await craftTar(file, entries as never);
    const before = await fx.worlds();
    const r = await fx.ctl(['import', file, '--name', 'Bad']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
    expect(await fx.worlds()).toEqual(before);
    expect(readdirSync(join(fx.home, 'worlds')).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('refuses a layer bigger than the store\'s free space', async () => {
    const small = join(fx.root, 'small');
    mkdirSync(small);
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small]).status).toBe(0);
    try {
      const home = join(small, 'home');
      await fx.init(home);
      const file = join(fx.root, 'big.tar');
      await craftTar(file, [{ name: 'big', body: Buffer.alloc(2 * 1024 * 1024, 1) }]);
      const r = await fx.ctl(['import', file, '--name', 'Big'], home);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/the import needs about \d+ bytes but the store's filesystem .* has \d+ free; nothing was imported/);
      expect((await fx.worlds(home)).map((w) => w.name)).toEqual(['base']);
      expect(readdirSync(join(home, 'worlds'))).toEqual([]);
    } finally {
      spawnSync('umount', [small]);
    }
  });

  it('refuses an image whose layer does not match its digest, importing none of its layers', async () => {
    await fx.ok(['create', 'P']);
    writeFileSync(join(await fx.mount('P'), 'p'), 'p\n');
    await fx.umount('P');
    await fx.ok(['create', 'C', '--from', 'P']);
    writeFileSync(join(await fx.mount('C'), 'c'), 'c\n');
    await fx.umount('C');
    const dir = join(fx.root, 'image');
    await fx.ok(['export', 'C', '--image', dir]);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    const manifest = JSON.parse(readFileSync(join(dir, 'blobs', index.manifests[0].digest.replace(':', '/')), 'utf8'));
    const top = join(dir, 'blobs', manifest.layers[1].digest.replace(':', '/'));
    const bytes = readFileSync(top);
    bytes[bytes.indexOf('c\n')] = 'd'.charCodeAt(0); // same size, other contents
    writeFileSync(top, bytes);
    const before = await fx.worlds();
    const r = await fx.ctl(['import', dir, '--name', 'X']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/has digest sha256:[0-9a-f]+ but the image says sha256:[0-9a-f]+: the blob is corrupt; nothing was imported/);
    expect(await fx.worlds()).toEqual(before);
  });
});

describe('import as an unprivileged user', () => {
  let user: UnprivilegedUser | undefined;
  afterEach(async () => { await user?.cleanup(); user = undefined; });

  it('refuses device files (only root may make them) and imports the rest with the user as owner', async () => {
    user = await UnprivilegedUser.make({ fuse: false });
    const env = { WORLDOS_HOME: `${user.home}/store` };
    const ctl = (...args: string[]) => user!.run([`${user!.repo}/bin/worldctl`, ...args], { env });
    expect(ctl('init', '--base', '/').status).toBe(0);
    const dev = join(user.home, 'dev.tar');
    await craftTar(dev, [{ name: 'ok' }, { name: 'null', type: 'character-device' }]);
    const fine = join(user.home, 'fine.tar');
    await craftTar(fine, [{ name: 'd/', type: 'directory' }, { name: 'd/f', body: 'f\n' }, { name: 'p', type: 'fifo' }]);
    spawnSync('chown', [String(user.uid), dev, fine]);
    const r = ctl('import', dev, '--name', 'Dev');
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/"null" is a device file, which only root may create \(import as root\); nothing was imported/);
    expect(ctl('import', fine, '--name', 'Fine').stdout).toMatch(/imported world "Fine"/);
    expect(JSON.parse(ctl('list', '--json').stdout).map((w: { name: string }) => w.name)).toEqual(['base', 'Fine']);
    expect(lstatSync(join(user.home, 'store', 'worlds', 'w1', 'layer', 'd', 'f')).uid).toBe(user.uid); // not root's: no chown without root
  });
});

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** Start Debian's docker-registry on 127.0.0.1 with its storage in the fixture; its host:port. */
async function startRegistry(): Promise<string> {
  const port = await freePort();
  const dir = join(fx.root, 'registry');
  mkdirSync(dir);
  writeFileSync(join(dir, 'config.yml'), `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/data\nhttp:\n  addr: 127.0.0.1:${port}\n`);
  const log = createWriteStream(join(dir, 'log'));
  registry = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  registry.stdout!.pipe(log);
  registry.stderr!.pipe(log);
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/v2/`)).ok) return `127.0.0.1:${port}`;
    } catch { /* not listening yet */ }
    if (registry.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`docker-registry did not start: ${existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8') : ''}`);
}

describe('push and pull through a registry', () => {
  it('pushes a world from one store and pulls it into a second with an identical view', async () => {
    const host = await startRegistry();
    await fx.ok(['create', 'P']);
    writeFileSync(join(await fx.mount('P'), 'p'), 'p\n');
    await fx.umount('P');
    await fx.ok(['create', 'App', '--from', 'P']);
    changeEverything(await fx.mount('App'));
    await fx.umount('App');
    expect(await fx.ok(['push', 'App', `${host}/worlds/app:v1`, '--tls-verify', 'false'])).toBe(`pushed App (2 layers) to ${host}/worlds/app:v1\n`);
    const home2 = join(fx.root, 'home2');
    await fx.init(home2);
    expect(await fx.ok(['pull', `${host}/worlds/app:v1`, '--tls-verify', 'false'], home2)).toBe('imported world "app~P" (w1)\nimported world "app" (w2)\n');
    const view = await sameViews({ name: 'App' }, { name: 'app', home: home2 });
    expect(view.get('/etc/new')).toMatch(/user\.colour="blue"/);
    expect(readdirSync(join(home2, 'worlds')).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('says what skopeo said when the registry is not there', async () => {
    await fx.ok(['create', 'A']);
    const r = await fx.ctl(['push', 'A', `127.0.0.1:${await freePort()}/x:y`, '--tls-verify', 'false']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/skopeo copy .* failed: .*connection refused/is);
    expect(r.stderr).toMatch(/hint:/);
  });
});
