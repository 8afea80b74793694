// Unix-domain sockets in a worldfs view (issue 12 A): bind(2) makes a socket node in the top layer,
// connect(2) through the view reaches the process that bound it — after a rename, chmod, chown or a
// hard link too — and a lower socket node copies up as a socket node, keeping its mode, owner, times
// and st_ino (nobody listens on it: ECONNREFUSED, as on ext4). Rows run on worldfs (aufs and overlay
// whiteouts) and on a plain directory, the oracle; checks of the layers apply to worldfs only.
import { once } from 'node:events';
import {
  chmodSync, lchownSync, linkSync, lstatSync, lutimesSync, mkdirSync, readdirSync, renameSync, unlinkSync, writeFileSync, type Stats,
} from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mksockSync } from '../helpers/fs-ops.js';
import { mountWorldfs, stackDirs, tempDir, unmountAll } from '../helpers/worldfs.js';
import { socketNode } from './support/tree.js';
import { errno, runCases, type Case, type View } from './support/views.js';

const T2001 = 978307200;
const OWNED = { uid: 1234, gid: 5678 };

/**
 * fuse-native (libfuse 2.9's high-level API) gives every name of a hard link a kernel inode of its
 * own (fs/README.md, Transports): a socket bound under one name is not reached through another.
 */
const NAMES_SHARE_INODE = (v: View) => !v.variant.union || process.env.WORLDFS_TRANSPORT !== 'native';

/** An echo server bound at `path` (bind(2) through the view); closed by `stop`. */
async function listen(path: string): Promise<Server> {
  const server = createServer((c) => c.on('data', (d) => c.end(`echo ${String(d)}`)));
  server.listen(path);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([e]) => { throw e; })]);
  return server;
}

const stop = (s: Server) => new Promise<void>((res) => s.close(() => res()));

/** Connect to the socket at `path`, send `msg`; the answer, or the errno code connect failed with. */
function talk(path: string, msg = 'ping'): Promise<string> {
  return new Promise((res) => {
    let got = '';
    const c = createConnection(path, () => c.write(msg));
    c.on('data', (d) => { got += String(d); });
    c.on('end', () => res(got));
    c.on('error', (e: NodeJS.ErrnoException) => res(e.code ?? String(e)));
  });
}

/** What bind(2) leaves where the view stores it: the top layer's entry must be a socket node. */
function expectSocketInTop(v: View, rel: string): void {
  if (v.variant.union) expect(lstatSync(join(v.upper, rel)).isSocket(), `the top layer's ${rel}`).toBe(true);
}

const attrs = (st: Stats) => ({ socket: st.isSocket(), mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.trunc(st.mtimeMs), ino: st.ino });

const cases: Case[] = [
  {
    title: 'bind makes a socket that connect reaches, also after chmod, chown, rename and unlink of another name',
    layers: [{ merged: { low: 'low' }, lowdir: { f: 'f' } }, { merged: { lower: 'lower' } }],
    async run(v) {
      const server = await listen(v.p('srv.sock'));
      try {
        expect(lstatSync(v.p('srv.sock')).isSocket()).toBe(true);
        expectSocketInTop(v, 'srv.sock');
        expect(await talk(v.p('srv.sock'), 'one')).toBe('echo one');
        chmodSync(v.p('srv.sock'), 0o700);
        lchownSync(v.p('srv.sock'), OWNED.uid, OWNED.gid);
        expect(attrs(lstatSync(v.p('srv.sock')))).toMatchObject({ socket: true, mode: 0o700, ...OWNED });
        expect(await talk(v.p('srv.sock'), 'two')).toBe('echo two');
        renameSync(v.p('srv.sock'), v.p('merged/moved.sock'));
        expect(errno(() => lstatSync(v.p('srv.sock')))).toBe('ENOENT');
        expect(await talk(v.p('srv.sock'))).toBe('ENOENT');
        expect(await talk(v.p('merged/moved.sock'), 'three')).toBe('echo three');
        renameSync(v.p('merged/moved.sock'), v.p('lowdir/moved.sock'));
        expect(await talk(v.p('lowdir/moved.sock'), 'four')).toBe('echo four');
        expectSocketInTop(v, 'lowdir/moved.sock');
        expect(readdirSync(v.p('lowdir')).sort()).toEqual(['f', 'moved.sock']);
        unlinkSync(v.p('lowdir/moved.sock'));
        expect(await talk(v.p('lowdir/moved.sock'))).toBe('ENOENT');
      } finally {
        await stop(server);
      }
    },
  },
  {
    title: 'a hard link to a bound socket reaches the same listener, and still does once the first name is gone',
    layers: [{ d: { f: 'f' } }],
    async run(v) {
      const server = await listen(v.p('d/a.sock'));
      try {
        linkSync(v.p('d/a.sock'), v.p('b.sock'));
        expect(lstatSync(v.p('b.sock')).nlink).toBe(2);
        expect(lstatSync(v.p('b.sock')).ino).toBe(lstatSync(v.p('d/a.sock')).ino);
        unlinkSync(v.p('d/a.sock'));
        expect(lstatSync(v.p('b.sock')).nlink).toBe(1);
        expect(await talk(v.p('b.sock'), 'linked')).toBe(NAMES_SHARE_INODE(v) ? 'echo linked' : 'ECONNREFUSED');
      } finally {
        await stop(server);
      }
    },
  },
  {
    title: 'bind over an existing name answers EADDRINUSE; mknod(S_IFSOCK) makes a socket nobody listens on',
    layers: [{ file: 'lower file', d: { sock: socketNode() } }],
    async run(v) {
      await expect(listen(v.p('file'))).rejects.toMatchObject({ code: 'EADDRINUSE' });
      await expect(listen(v.p('d/sock'))).rejects.toMatchObject({ code: 'EADDRINUSE' });
      mksockSync(v.p('made'), 0o640);
      expect(attrs(lstatSync(v.p('made')))).toMatchObject({ socket: true, mode: 0o640 });
      expectSocketInTop(v, 'made');
      expect(await talk(v.p('made'))).toBe('ECONNREFUSED');
      expect(await talk(v.p('file'))).toBe('ECONNREFUSED');
      expect(errno(() => mksockSync(v.p('file'), 0o640))).toBe('EEXIST');
      expect(errno(() => writeFileSync(v.p('made'), 'x'))).toBe('ENXIO');
      unlinkSync(v.p('made'));
      const server = await listen(v.p('made')); // the name is free again
      try {
        expect(await talk(v.p('made'), 'again')).toBe('echo again');
      } finally {
        await stop(server);
      }
    },
  },
  {
    title: 'a lower socket copies up as a socket on chmod, chown, utimes, rename and link, keeping mode, owner, times and st_ino',
    layers: [{ d: { s1: socketNode({ mode: 0o751, ...OWNED, mtime: T2001 }) }, s2: socketNode({ mode: 0o700, mtime: T2001 }) },
      { s3: socketNode({ mode: 0o604, ...OWNED, mtime: T2001 }), s4: socketNode({ mtime: T2001 }) }],
    async run(v) {
      const before = Object.fromEntries(['d/s1', 's2', 's3', 's4'].map((p) => [p, attrs(lstatSync(v.p(p)))]));
      expect(before['d/s1']).toMatchObject({ socket: true, mode: 0o751, ...OWNED, mtime: T2001 * 1000 });
      chmodSync(v.p('d/s1'), 0o750);
      expect(attrs(lstatSync(v.p('d/s1')))).toEqual({ ...before['d/s1'], mode: 0o750 });
      lchownSync(v.p('s2'), 42, 43);
      expect(attrs(lstatSync(v.p('s2')))).toEqual({ ...before.s2, uid: 42, gid: 43 });
      lutimesSync(v.p('s4'), T2001 + 5, T2001 + 5);
      expect(attrs(lstatSync(v.p('s4')))).toEqual({ ...before.s4, mtime: (T2001 + 5) * 1000 });
      renameSync(v.p('s3'), v.p('d/s3'));
      expect(attrs(lstatSync(v.p('d/s3')))).toEqual(before.s3);
      linkSync(v.p('d/s1'), v.p('s1.link'));
      expect(lstatSync(v.p('s1.link')).nlink).toBe(2);
      expect(errno(() => lstatSync(v.p('s3')))).toBe('ENOENT');
      for (const p of ['d/s1', 's2', 's4', 'd/s3', 's1.link']) {
        expectSocketInTop(v, p);
        expect(await talk(v.p(p)), p).toBe('ECONNREFUSED');
      }
      expect(readdirSync(v.p()).sort()).toEqual(['d', 's1.link', 's2', 's4']);
      unlinkSync(v.p('d/s1'));
      unlinkSync(v.p('s1.link'));
      unlinkSync(v.p('s2'));
      expect(readdirSync(v.p()).sort()).toEqual(['d', 's4']);
      expect(readdirSync(v.p('d'))).toEqual(['s3']);
    },
  },
  {
    title: 'a server in another process, bound in a lower-only directory, serves a client in this one',
    layers: [{ top: 'top' }, { lowdir: { deeper: { f: 'f' } } }],
    async run(v, env) {
      const path = v.p('lowdir/deeper/py.sock');
      const py = env.spawnTracked('python3', ['-c', [
        'import socket, sys',
        's = socket.socket(socket.AF_UNIX)',
        's.bind(sys.argv[1]); s.listen(1)',
        'print("ready", flush=True)',
        'c, _ = s.accept(); c.sendall(b"from python: " + c.recv(100)); c.close()',
      ].join('\n'), path]);
      let out = '';
      py.stdout!.on('data', (d) => { out += String(d); });
      while (!out.includes('ready')) {
        if (py.exitCode !== null) throw new Error(`python3 exited ${py.exitCode}`);
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(await talk(path, 'hello')).toBe('from python: hello');
      await once(py, 'exit');
      expect(lstatSync(path).isSocket()).toBe(true);
      expectSocketInTop(v, 'lowdir/deeper/py.sock');
      expect(await talk(path)).toBe('ECONNREFUSED'); // the process is gone; the node stays, as on ext4
    },
  },
];

runCases('worldfs Unix-domain sockets', cases);

describe('a bound socket in a view the kernel caches nothing of (timeout=0)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let server: Server | undefined;
  beforeEach(() => { tmp = tempDir('worldos-e2e-'); });
  afterEach(async () => {
    if (server) await stop(server);
    server = undefined;
    await unmountAll();
    tmp.cleanup();
  });

  // Every connect looks the name up again: the daemon must answer the node the socket is bound to.
  it('is reached by every connect, through lookups, renames and a dropped dentry cache', async () => {
    const d = stackDirs(tmp.path, 1);
    mkdirSync(join(d.lowers[0]!, 'lowdir'));
    const m = await mountWorldfs({ ...d, options: ['timeout=0'] });
    server = await listen(join(m.mnt, 'lowdir', 'a.sock'));
    for (let i = 0; i < 3; i++) expect(await talk(join(m.mnt, 'lowdir', 'a.sock'), `n${i}`)).toBe(`echo n${i}`);
    renameSync(join(m.mnt, 'lowdir', 'a.sock'), join(m.mnt, 'b.sock'));
    expect(await talk(join(m.mnt, 'b.sock'), 'renamed')).toBe('echo renamed');
    writeFileSync('/proc/sys/vm/drop_caches', '2');
    expect(await talk(join(m.mnt, 'b.sock'), 'dropped')).toBe('echo dropped');
    expect(m.stderr()).not.toMatch(/unexpected error/);
  });
});
