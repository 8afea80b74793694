// KernelOps (fs/transport/kernel/ops.ts) driven with request buffers as the kernel would send
// them, over a real WorldFs on temporary layer directories — no mount: lookups and negative
// entries, lookup counting in READDIRPLUS, caller ownership on CREATE, RENAME2 NOREPLACE, ENOSYS,
// GETATTR/SETATTR of a node with no name left (through its open handles), FALLOCATE.
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toErrno } from '../../../../../fs/errno.js';
import { parseArgs } from '../../../../../fs/options.js';
import { setup } from '../../../../../fs/setup.js';
import { KernelOps } from '../../../../../fs/transport/kernel/ops.js';
import { Fattr, IN_HEADER_SIZE, Op, Reader, decodeInHeader, RENAME_NOREPLACE } from '../../../../../fs/transport/kernel/protocol.js';

let base: string;
let ops: KernelOps;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'worldos-kops-'));
  for (const d of ['l0', 'upper', 'work', 'mnt']) mkdirSync(join(base, d));
  mkdirSync(join(base, 'l0/dir'));
  for (const n of ['a', 'b', 'c', 'd']) writeFileSync(join(base, 'l0/dir', n), n);
  const opts = parseArgs(['-o', `lowerdir=${base}/l0,upperdir=${base}/upper,workdir=${base}/work`, join(base, 'mnt')]);
  ops = new KernelOps(setup(opts).fs, { entry: 1, attr: 1, negative: 1 });
});
afterEach(() => rmSync(base, { recursive: true, force: true }));

let unique = 1n;
/** A request: header for `nodeid` from uid/gid 1000, then `body`. */
function request(opcode: number, nodeid: number, ...body: (Buffer | string)[]) {
  const payload = Buffer.concat(body.map((b) => (typeof b === 'string' ? Buffer.from(b + '\0') : b)));
  const buf = Buffer.alloc(IN_HEADER_SIZE + payload.length);
  buf.writeUInt32LE(buf.length, 0);
  buf.writeUInt32LE(opcode, 4);
  buf.writeBigUInt64LE(unique++, 8);
  buf.writeBigUInt64LE(BigInt(nodeid), 16);
  buf.writeUInt32LE(1000, 24);
  buf.writeUInt32LE(1000, 28);
  payload.copy(buf, IN_HEADER_SIZE);
  let reply;
  try {
    reply = ops.dispatch({ h: decodeInHeader(buf), body: new Reader(buf, IN_HEADER_SIZE, buf.length) });
  } catch (e) {
    return { error: toErrno(e, 'test', ''), body: Buffer.alloc(0) }; // as the session does
  }
  return reply && { error: reply.readInt32LE(4), body: Buffer.from(reply.subarray(16)) };
}

const u32s = (...n: number[]) => Buffer.from(new Uint32Array(n).buffer);
const u64 = (n: number) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };
const lookup = (parent: number, name: string) => request(Op.LOOKUP, parent, name)!;
const nodeOf = (r: { body: Buffer }) => Number(r.body.readBigUInt64LE(0));

describe('KernelOps', () => {
  it('answers LOOKUP with a node and the attributes, and a missing name with a negative entry', () => {
    const dir = lookup(1, 'dir');
    expect(dir.error).toBe(0);
    expect(nodeOf(dir)).toBeGreaterThan(1);
    expect(dir.body.readUInt32LE(40 + 60) & 0o170000).toBe(0o040000);
    const missing = lookup(1, 'nope');
    expect([missing.error, nodeOf(missing), Number(missing.body.readBigUInt64LE(16))]).toEqual([0, 0, 1]);
  });

  it('counts a READDIRPLUS entry as a lookup only when it fits in the reply', () => {
    const dir = nodeOf(lookup(1, 'dir'));
    const open = request(Op.OPENDIR, dir, u32s(0, 0))!;
    const fh = Number(open.body.readBigUInt64LE(0));
    const before = ops.nodes.size;
    // Room for three direntplus records of one- or two-letter names (160 bytes each), not four:
    // `.` and `..` (no node: the kernel links none for them) and the first entry.
    const r = request(Op.READDIRPLUS, dir, u64(fh), u64(0), u32s(3 * 160 + 100, 0), u64(0), u32s(0, 0))!;
    expect(r.error).toBe(0);
    expect(r.body.length).toBe(3 * 160);
    expect(ops.nodes.size).toBe(before + 1);
    // Resumed after the last entry's offset (its cookie: fuse_direntplus is entry_out, then ino, off).
    const last = Number(r.body.readBigUInt64LE(2 * 160 + 128 + 8));
    const rest = request(Op.READDIRPLUS, dir, u64(fh), u64(last), u32s(4096, 0), u64(0), u32s(0, 0))!;
    expect(rest.body.length).toBe(3 * 160);
    expect(ops.nodes.size).toBe(before + 4);
  });

  it('creates files and directories owned by the caller (uid/gid 1000 here)', () => {
    const create = request(Op.CREATE, 1, u32s(0o2 | 0o100, 0o100644, 0o022, 0), 'mine')!;
    expect(create.error).toBe(0);
    request(Op.RELEASE, 1, Buffer.concat([create.body.subarray(128, 136), u32s(0, 0), u64(0)]));
    expect(request(Op.MKDIR, 1, u32s(0o755, 0o022), 'mydir')!.error).toBe(0);
    for (const n of ['mine', 'mydir']) {
      const st = lstatSync(join(base, 'upper', n));
      expect([n, st.uid, st.gid]).toEqual([n, 1000, 1000]);
    }
  });

  it('refuses RENAME2 with RENAME_NOREPLACE onto an existing name, and renames otherwise', () => {
    const dir = nodeOf(lookup(1, 'dir'));
    const refused = request(Op.RENAME2, dir, u64(dir), u32s(RENAME_NOREPLACE, 0), 'a', 'b')!;
    expect(refused.error).toBe(-17); // EEXIST
    expect(request(Op.RENAME2, dir, u64(dir), u32s(RENAME_NOREPLACE, 0), 'a', 'z')!.error).toBe(0);
    expect(lookup(dir, 'a').body.readBigUInt64LE(0)).toBe(0n);
  });

  it('answers opcodes it does not serve with ENOSYS and gives FORGET no reply', () => {
    expect(request(Op.BMAP, 1, u64(0), u32s(512, 0))!.error).toBe(-38);
    const a = nodeOf(lookup(nodeOf(lookup(1, 'dir')), 'a'));
    expect(request(Op.FORGET, a, u64(1))).toBeUndefined();
    expect(ops.nodes.get(a)).toBeUndefined();
  });

  describe('a file with no name left', () => {
    /** GETATTR without a handle (what fstat sends): [error, st_ino, mode, nlink, size]. */
    const getattr = (node: number) => {
      const r = request(Op.GETATTR, node, u32s(0, 0), u64(0))!;
      return r.error ? [r.error] : [0, Number(r.body.readBigUInt64LE(16)), r.body.readUInt32LE(76), r.body.readUInt32LE(80), Number(r.body.readBigUInt64LE(24))];
    };
    /** SETATTR of the mode without a handle (what fchmod sends). */
    const chmod = (node: number, mode: number) =>
      request(Op.SETATTR, node, u32s(Fattr.MODE, 0), u64(0), u64(0), u64(0), u64(0), u64(0), u64(0), u32s(0, 0, 0, mode, 0, 0, 0, 0))!;
    const open = (node: number, flags: number) => Number(request(Op.OPEN, node, u32s(flags, 0))!.body.readBigUInt64LE(0));
    const release = (fh: number) => request(Op.RELEASE, 1, u64(fh), u32s(0, 0), u64(0));

    it('is answered through its open handles: nlink 0, the st_ino it had; ENOENT once closed', () => {
      const dir = nodeOf(lookup(1, 'dir'));
      const a = nodeOf(lookup(dir, 'a'));
      const [, ino] = getattr(a);
      const fh = open(a, 0);
      expect(request(Op.UNLINK, dir, 'a')!.error).toBe(0);
      expect(getattr(a)).toEqual([0, ino, 0o100644, 0, 1]);
      expect(chmod(a, 0o600).error).toBe(0);
      expect(getattr(a)).toEqual([0, ino, 0o100600, 0, 1]);
      expect(statSync(join(base, 'l0/dir/a')).mode & 0o7777).toBe(0o644); // the layer is untouched
      release(fh);
      expect(getattr(a)).toEqual([-2]);
      expect(chmod(a, 0o644).error).toBe(-2);
    });

    it('gives a copy-up under a read-only handle of the lower file a new node: each node answers from its own copy', () => {
      const dir = nodeOf(lookup(1, 'dir'));
      const b = nodeOf(lookup(dir, 'b'));
      const [, ino] = getattr(b);
      const ro = open(b, 0);
      // O_RDWR copies it up; one kernel inode must not hold both copies (its page cache would mix
      // them): ESTALE, and the kernel looks the name up again and retries the open there.
      expect(request(Op.OPEN, b, u32s(2, 0))!.error).toBe(-116);
      const b2 = nodeOf(lookup(dir, 'b'));
      expect(b2).not.toBe(b);
      const rw = open(b2, 2);
      expect(request(Op.WRITE, b2, u64(rw), u64(1), u32s(3, 0), u64(0), u32s(0, 0), Buffer.from('BBB'))!.error).toBe(0);
      expect(request(Op.UNLINK, dir, 'b')!.error).toBe(0);
      expect(getattr(b2)).toEqual([0, ino, 0o100644, 0, 4]); // the copy, with the number the name had
      // The old node's handle is the lower file's, which keeps its link (a detached node's file is
      // not unlinked: its name went to the new node), size and data.
      expect(getattr(b)).toEqual([0, ino, 0o100644, 1, 1]);
      release(rw);
      expect(getattr(b2)).toEqual([-2]);
      expect(getattr(b)).toEqual([0, ino, 0o100644, 1, 1]);
      release(ro);
    });
  });

  it('passes FALLOCATE to the layer file of a handle open for writing', () => {
    const dir = nodeOf(lookup(1, 'dir'));
    const c = nodeOf(lookup(dir, 'c'));
    const fh = Number(request(Op.OPEN, c, u32s(2, 0))!.body.readBigUInt64LE(0));
    expect(request(Op.FALLOCATE, c, u64(fh), u64(0), u64(8192), u32s(0, 0))!.error).toBe(0);
    expect(statSync(join(base, 'upper/dir/c')).size).toBe(8192);
    expect(request(Op.FALLOCATE, c, u64(fh), u64(0), u64(4096), u32s(0x02 | 0x01, 0))!.error).toBe(0); // PUNCH_HOLE|KEEP_SIZE
    expect(readFileSync(join(base, 'upper/dir/c')).subarray(0, 4096).equals(Buffer.alloc(4096))).toBe(true);
    expect(readFileSync(join(base, 'l0/dir/c'), 'utf8')).toBe('c');
  });

  describe('where listings are notified and the kernel can open directories itself', () => {
    const notified = () => {
      const opts = parseArgs(['-o', `lowerdir=${base}/l0,upperdir=${base}/upper,workdir=${base}/work`, join(base, 'mnt')]);
      const t = { entry: 0, attr: 0, negative: 0, notifiedLayers: Infinity, notified: 300 };
      const o = new KernelOps(setup(opts).fs, t);
      const sent: Buffer[] = [];
      o.initialized((n) => sent.push(...n), true, true);
      return { o, t, sent };
    };
    /** READDIR of `dir` with no handle from `offset`: the names and each one's offset. */
    const readdirNoHandle = (dir: number, offset: number) => {
      const r = request(Op.READDIR, dir, u64(0), u64(offset), u32s(4096, 0), u64(0), u32s(0, 0))!;
      expect(r.error).toBe(0);
      const out: [string, number][] = [];
      for (let at = 0; at < r.body.length;) {
        const len = r.body.readUInt32LE(at + 16);
        out.push([r.body.toString('utf8', at + 24, at + 24 + len), Number(r.body.readBigUInt64LE(at + 8))]);
        at += (24 + len + 7) & ~7;
      }
      return out;
    };

    it('answers the first OPENDIR ENOSYS and every later one too, and lists by node with no handle', () => {
      const n = notified();
      ops = n.o;
      const dir = nodeOf(lookup(1, 'dir'));
      expect(request(Op.OPENDIR, dir, u32s(0, 0))!.error).toBe(-38);
      n.t.notifiedLayers = 0; // degraded since: the decision stands (handles granted now would never be released)
      expect(request(Op.OPENDIR, dir, u32s(0, 0))!.error).toBe(-38);
      const all = readdirNoHandle(dir, 0);
      expect(all.map(([name]) => name)).toEqual(['.', '..', ...all.slice(2).map(([name]) => name)]);
      expect(all.slice(2).map(([name]) => name).sort()).toEqual(['a', 'b', 'c', 'd']);
      expect(readdirNoHandle(dir, all[3]![1]).map(([name]) => name)).toEqual(all.slice(4).map(([name]) => name));
      expect(readdirNoHandle(dir, all.at(-1)![1])).toEqual([]);
      expect(request(Op.FSYNCDIR, dir, u64(0), u32s(0, 0))!.error).toBe(0);
    });

    it('keeps directory handles when the kernel cannot open directories itself, or listings are not notified at the first OPENDIR', () => {
      for (const [kernelOpens, layers] of [[false, Infinity], [true, 1]] as const) {
        const n = notified();
        n.o.initialized(() => {}, true, kernelOpens);
        n.t.notifiedLayers = layers;
        ops = n.o;
        const dir = nodeOf(lookup(1, 'dir'));
        const open = request(Op.OPENDIR, dir, u32s(0, 0))!;
        expect(open.error).toBe(0);
        expect(Number(open.body.readBigUInt64LE(0))).toBeGreaterThan(0);
        n.t.notifiedLayers = Infinity;
        expect(request(Op.OPENDIR, dir, u32s(0, 0))!.error).toBe(0);
      }
    });

    it('once listings are no longer notified, invalidates every directory it listed within the fallback lifetime', async () => {
      const n = notified();
      ops = n.o;
      const dir = nodeOf(lookup(1, 'dir'));
      expect(request(Op.OPENDIR, dir, u32s(0, 0))!.error).toBe(-38);
      readdirNoHandle(dir, 0);
      await new Promise((r) => setTimeout(r, 20));
      expect(n.sent).toEqual([]); // notified: each change invalidates what it touches
      n.t.notifiedLayers = 0; // the watch degraded (setLifetime with the fallback, here 0 s)
      readdirNoHandle(dir, 0);
      readdirNoHandle(1, 0);
      await new Promise((r) => setTimeout(r, 20));
      // NOTIFY_INVAL_INODE (code 2) of each, offset 0, length 0: its pages, which hold the listing, go.
      expect(n.sent.map((b) => [b.readInt32LE(4), Number(b.readBigUInt64LE(16)), Number(b.readBigInt64LE(24))]).sort()).toEqual([[2, 1, 0], [2, dir, 0]].sort());
    });
  });
});
