// The FUSE wire format (fs/transport/kernel/protocol.ts) against the sizes and offsets of
// linux/fuse.h 7.38, without a mount: headers, attributes, entries, dirents, INIT.
import { describe, expect, it } from 'vitest';
import type { Attr } from '../../../../../fs/union/attr.js';
import {
  ATTR_OUT_SIZE, ENTRY_OUT_SIZE, IN_HEADER_SIZE, INIT_OUT_SIZE, Init, OUT_HEADER_SIZE, Op, Reader, decodeInHeader,
  EXPIRE_ONLY, Init2, decodeInitIn, direntPlusSize, direntSize, encodeError, encodeInvalEntry, encodeInvalInode, notifyBuffer, replyBuffer, setReplyLength, writeAttrOut, writeTime,
  writeDirent, writeDirentPlus, writeEntry, writeInitOut, writeOpenOut, FOPEN_PASSTHROUGH, OPEN_OUT_SIZE,
} from '../../../../../fs/transport/kernel/protocol.js';
import { negotiate, WANTED_FLAGS } from '../../../../../fs/transport/kernel/session.js';

const attr: Attr = {
  mode: 0o100644, uid: 1000, gid: 100, size: 5_000_000_000, dev: 2049, nlink: 2, ino: 0x1_0000_0002, rdev: 0,
  blksize: 4096, blocks: 9, atimeNs: 1_700_000_000_123_456_789n, mtimeNs: -1_500_000_000n, ctimeNs: 0n,
};

function header(opcode: number, nodeid: bigint, bodyLen: number): Buffer {
  const b = Buffer.alloc(IN_HEADER_SIZE + bodyLen);
  b.writeUInt32LE(IN_HEADER_SIZE + bodyLen, 0);
  b.writeUInt32LE(opcode, 4);
  b.writeBigUInt64LE(0x1234_5678_9abcn, 8);
  b.writeBigUInt64LE(nodeid, 16);
  b.writeUInt32LE(1000, 24);
  b.writeUInt32LE(100, 28);
  b.writeUInt32LE(4242, 32);
  return b;
}

describe('fuse_in_header', () => {
  it('decodes length, opcode, unique, node id and the caller', () => {
    const h = decodeInHeader(header(Op.LOOKUP, 7n, 4));
    expect(h).toEqual({ len: 44, opcode: Op.LOOKUP, unique: 0x1234_5678_9abcn, nodeid: 7, uid: 1000, gid: 100, pid: 4242 });
  });

  it('reads node ids above 2^32 exactly', () => {
    expect(decodeInHeader(header(Op.GETATTR, 0x1_0000_0005n, 0)).nodeid).toBe(0x1_0000_0005);
  });
});

describe('Reader', () => {
  it('reads integers and NUL-terminated names in order, stopping at the request end', () => {
    const b = Buffer.concat([Buffer.from([1, 0, 0, 0]), Buffer.from('old\0new\0'), Buffer.from('junk')]);
    const r = new Reader(b, 0, b.length - 4);
    expect(r.u32()).toBe(1);
    expect(r.cstring()).toBe('old');
    expect(r.cstring()).toBe('new');
  });

  it('reads a name that fills the request without a NUL', () => {
    const b = Buffer.from('abc');
    expect(new Reader(b, 0, 3).cstring()).toBe('abc');
  });
});

describe('replies', () => {
  it('an error reply is a bare header with the negative errno', () => {
    const b = encodeError(9n, -2);
    expect(b.length).toBe(OUT_HEADER_SIZE);
    expect([b.readUInt32LE(0), b.readInt32LE(4), b.readBigUInt64LE(8)]).toEqual([16, -2, 9n]);
  });

  it('a reply shrunk after filling carries its final length', () => {
    const b = setReplyLength(replyBuffer(3n, 100, false), OUT_HEADER_SIZE + 10);
    expect([b.length, b.readUInt32LE(0), b.readInt32LE(4)]).toEqual([26, 26, 0]);
  });

  it('a notification has unique 0 and the code where the error goes', () => {
    const b = notifyBuffer(3, 16);
    expect([b.readUInt32LE(0), b.readInt32LE(4), b.readBigUInt64LE(8)]).toEqual([32, 3, 0n]);
  });
});

describe('notifications', () => {
  it('NOTIFY_INVAL_INODE carries the node, the offset and the length (-1: attributes only)', () => {
    const b = encodeInvalInode(7, -1, 0);
    expect([b.readUInt32LE(0), b.readInt32LE(4), b.readBigUInt64LE(8)]).toEqual([40, 2, 0n]);
    expect([b.readBigUInt64LE(16), b.readBigInt64LE(24), b.readBigInt64LE(32)]).toEqual([7n, -1n, 0n]);
  });

  it('NOTIFY_INVAL_ENTRY carries the parent, the name length, the flags and the name with its NUL', () => {
    const b = encodeInvalEntry(1, 'abc', EXPIRE_ONLY);
    expect([b.readUInt32LE(0), b.readInt32LE(4)]).toEqual([16 + 16 + 4, 3]);
    expect([b.readBigUInt64LE(16), b.readUInt32LE(24), b.readUInt32LE(28)]).toEqual([1n, 3, 1]);
    expect(b.toString('utf8', 32, 35)).toBe('abc');
    expect(b[35]).toBe(0);
  });
});

describe('fuse_entry_out and fuse_attr', () => {
  it('lays out an entry as linux/fuse.h does (128 bytes)', () => {
    expect(ENTRY_OUT_SIZE).toBe(128);
    const b = Buffer.alloc(ENTRY_OUT_SIZE);
    writeEntry(b, 0, { nodeid: 5, generation: 1, entryValid: 1.5, attrValid: 0, attr });
    expect(b.readBigUInt64LE(0)).toBe(5n);
    expect(b.readBigUInt64LE(8)).toBe(1n);
    expect(b.readBigUInt64LE(16)).toBe(1n); // entry_valid seconds
    expect(b.readUInt32LE(32)).toBe(500_000_000); // entry_valid_nsec
    const a = 40;
    expect(b.readBigUInt64LE(a)).toBe(0x1_0000_0002n); // ino
    expect(b.readBigUInt64LE(a + 8)).toBe(5_000_000_000n); // size
    expect(b.readBigUInt64LE(a + 16)).toBe(9n); // blocks
    expect(b.readBigInt64LE(a + 24)).toBe(1_700_000_000n); // atime
    expect(b.readUInt32LE(a + 48)).toBe(123_456_789); // atimensec
    expect(b.readBigInt64LE(a + 32)).toBe(-2n); // mtime: -1.5 s is -2 s + 0.5 s
    expect(b.readUInt32LE(a + 52)).toBe(500_000_000);
    expect(b.readUInt32LE(a + 60)).toBe(0o100644); // mode
    expect(b.readUInt32LE(a + 64)).toBe(2); // nlink
    expect([b.readUInt32LE(a + 68), b.readUInt32LE(a + 72)]).toEqual([1000, 100]);
    expect(b.readUInt32LE(a + 80)).toBe(4096); // blksize
  });

  it('a negative entry is node id 0 with only its cache lifetime', () => {
    const b = Buffer.alloc(ENTRY_OUT_SIZE);
    writeEntry(b, 0, { nodeid: 0, generation: 0, entryValid: 2, attrValid: 0 });
    expect(b.readBigUInt64LE(0)).toBe(0n);
    expect(b.readBigUInt64LE(16)).toBe(2n);
    expect(b.subarray(40).every((x) => x === 0)).toBe(true);
  });

  it('fuse_attr_out is 104 bytes with the attributes at 16', () => {
    expect(ATTR_OUT_SIZE).toBe(104);
    const b = Buffer.alloc(ATTR_OUT_SIZE);
    writeAttrOut(b, 0, 0, attr);
    expect(b.readBigUInt64LE(16)).toBe(0x1_0000_0002n);
  });
});

describe('writeTime', () => {
  /** What the kernel must read: floored seconds, and nanoseconds 0..999,999,999 (the BigInt way). */
  const reference = (ns: bigint): [bigint, number] => {
    let sec = ns / 1_000_000_000n;
    let nsec = ns % 1_000_000_000n;
    if (nsec < 0n) { sec -= 1n; nsec += 1_000_000_000n; }
    return [sec, Number(nsec)];
  };
  const written = (ns: bigint): [bigint, number] => {
    const b = Buffer.alloc(16, 0xee);
    writeTime(b, 0, 8, ns);
    return [b.readBigInt64LE(0), b.readUInt32LE(8)];
  };

  it('splits ns into floored seconds and nanoseconds, as BigInt arithmetic does, at every edge', () => {
    const edges = [0n, 1n, -1n, 999_999_999n, 1_000_000_000n, -999_999_999n, -1_000_000_000n, -1_000_000_001n,
      1_765_000_000_123_456_789n, -86_400_000_000_001n, 2n ** 32n, 2n ** 32n - 1n, -(2n ** 32n), 2n ** 53n * 512n - 1n, 2n ** 53n * 512n, -(2n ** 53n * 512n) - 1n,
      2n ** 62n + 12345n, -(2n ** 62n), 2n ** 63n - 1n, -(2n ** 63n),
      // Past 64 bits of ns: 2300-01-01 and 3000-01-01 (touch -d takes them), and as far before 1970.
      10_413_792_000_000_000_123n, 32_503_680_000_000_000_000n, -10_413_792_000_000_000_123n, 2n ** 64n + 7n];
    for (const ns of edges) expect(written(ns), String(ns)).toEqual(reference(ns));
  });

  it('agrees with BigInt arithmetic on 20,000 random times, negative ones and those past 2^53 ns >> 9 included', () => {
    let x = 0x2545f491n;
    const next = () => { x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n); return BigInt.asIntN(64, x); };
    for (let i = 0; i < 20_000; i++) {
      const r = next();
      // A spread of magnitudes: today's times, dates before 1970, and the whole s64 range.
      const ns = i % 3 === 0 ? r : i % 3 === 1 ? r % (2n ** 61n) : r % (10n ** 12n);
      expect(written(ns), String(ns)).toEqual(reference(ns));
    }
  });
});

describe('directory entries', () => {
  it('a dirent is 24 bytes plus the name, padded to 8', () => {
    expect(direntSize(1)).toBe(32);
    expect(direntSize(8)).toBe(32);
    expect(direntSize(9)).toBe(40);
    const b = Buffer.alloc(64, 0xff);
    const end = writeDirent(b, 0, 77, 3, 8, Buffer.from('abc'));
    expect(end).toBe(32);
    expect([b.readBigUInt64LE(0), b.readBigUInt64LE(8), b.readUInt32LE(16), b.readUInt32LE(20)]).toEqual([77n, 3n, 3, 8]);
    expect(b.toString('utf8', 24, 27)).toBe('abc');
    expect(b.subarray(27, 32).every((x) => x === 0)).toBe(true);
  });

  it('a direntplus is an entry_out followed by a dirent', () => {
    expect(direntPlusSize(3)).toBe(128 + 32);
    const b = Buffer.alloc(200);
    writeDirentPlus(b, 0, { nodeid: 9, generation: 0, entryValid: 1, attrValid: 0, attr }, 1, 8, Buffer.from('abc'));
    expect(b.readBigUInt64LE(0)).toBe(9n);
    expect(b.readBigUInt64LE(128)).toBe(0x1_0000_0002n); // the dirent's ino is the attribute's
    expect(b.toString('utf8', 152, 155)).toBe('abc');
  });
});

describe('INIT', () => {
  const initIn = (minor: number, flags: number, flags2 = 0) => {
    const b = Buffer.alloc(64);
    b.writeUInt32LE(7, 0);
    b.writeUInt32LE(minor, 4);
    b.writeUInt32LE(131072, 8);
    b.writeUInt32LE(flags >>> 0, 12);
    b.writeUInt32LE(flags2, 16);
    return decodeInitIn(new Reader(b, 0, 64));
  };

  it('reads flags2 only when the kernel sets INIT_EXT', () => {
    expect(initIn(45, Init.INIT_EXT, 3).flags).toBe(BigInt(Init.INIT_EXT) | (3n << 32n));
    expect(initIn(45, 0, 3).flags).toBe(0n);
  });

  it('answers with our minor, the flags both sides know, and 1 MiB writes', () => {
    const n = negotiate(initIn(45, 0x7fffffff), 1 << 20);
    expect(n).toMatchObject({ minor: 38, flags: WANTED_FLAGS, flags2: 0, maxWrite: 1 << 20, maxReadahead: 131072 });
  });

  it('asks for expire-only entry invalidation through INIT_EXT when the kernel offers it', () => {
    const n = negotiate(initIn(45, Init.INIT_EXT | Init.ASYNC_READ, 0xffffffff), 1 << 20);
    expect(n).toMatchObject({ flags: Init.INIT_EXT | Init.ASYNC_READ, flags2: Init2.HAS_EXPIRE_ONLY });
  });

  it('asks only for what the kernel offers', () => {
    const n = negotiate(initIn(38, Init.ASYNC_READ | Init.WRITEBACK_CACHE | Init.MAX_PAGES), 1 << 20);
    expect(n).toMatchObject({ flags: Init.ASYNC_READ | Init.MAX_PAGES });
  });

  it('refuses another major version and minors before 7.31', () => {
    expect(typeof negotiate({ major: 8, minor: 0, maxReadahead: 0, flags: 0n }, 1 << 20)).toBe('string');
    expect(typeof negotiate(initIn(26, 0), 1 << 20)).toBe('string');
  });

  it('never asks for writeback caching by itself, and asks to apply the umask itself (DONT_MASK: default ACLs)', () => {
    expect(WANTED_FLAGS & Init.WRITEBACK_CACHE).toBe(0);
    expect(WANTED_FLAGS & Init.DONT_MASK).toBe(Init.DONT_MASK);
    expect(negotiate(initIn(45, Init.DONT_MASK | Init.ASYNC_READ), 1 << 20)).toMatchObject({ flags: Init.DONT_MASK | Init.ASYNC_READ });
  });

  it('asks for a READDIRPLUS per directory read, unless the mount leaves the choice to the kernel', () => {
    const offered = Init.DO_READDIRPLUS | Init.READDIRPLUS_AUTO;
    expect(negotiate(initIn(45, offered), 1 << 20)).toMatchObject({ flags: Init.DO_READDIRPLUS });
    expect(negotiate(initIn(45, offered), 1 << 20, { readdirplus: 'always' })).toMatchObject({ flags: Init.DO_READDIRPLUS });
    expect(negotiate(initIn(45, offered), 1 << 20, { readdirplus: 'auto' })).toMatchObject({ flags: offered });
  });

  it('asks for writeback caching when the mount asks for it, and always hands suid/sgid killing to us', () => {
    const offered = Init.WRITEBACK_CACHE | Init.HANDLE_KILLPRIV_V2 | Init.ASYNC_READ;
    expect(negotiate(initIn(45, offered), 1 << 20, { writeback: true })).toMatchObject({ flags: offered });
    expect(negotiate(initIn(45, offered), 1 << 20)).toMatchObject({ flags: Init.HANDLE_KILLPRIV_V2 | Init.ASYNC_READ });
  });

  it('asks for POSIX ACL checks only when the mount asks (the acl option)', () => {
    const offered = Init.POSIX_ACL | Init.ASYNC_READ;
    expect(negotiate(initIn(45, offered), 1 << 20, { acl: true })).toMatchObject({ flags: offered });
    expect(negotiate(initIn(45, offered), 1 << 20)).toMatchObject({ flags: Init.ASYNC_READ });
  });

  it('asks for passthrough through INIT_EXT when the mount allows it, never with writeback caching', () => {
    const offered = Init.INIT_EXT | Init.WRITEBACK_CACHE;
    expect(negotiate(initIn(45, offered, 0xffffffff), 1 << 20, { passthrough: true })).toMatchObject({ flags2: Init2.HAS_EXPIRE_ONLY | Init2.PASSTHROUGH });
    expect(negotiate(initIn(45, offered, 0xffffffff), 1 << 20, { writeback: true, passthrough: true })).toMatchObject({ flags2: Init2.HAS_EXPIRE_ONLY });
    expect(negotiate(initIn(45, offered, 0xffffffff), 1 << 20)).toMatchObject({ flags2: Init2.HAS_EXPIRE_ONLY });
    expect(negotiate(initIn(45, Init.INIT_EXT, Init2.HAS_EXPIRE_ONLY), 1 << 20, { passthrough: true })).toMatchObject({ flags2: Init2.HAS_EXPIRE_ONLY });
    expect(Init2.PASSTHROUGH).toBe(1 << 5); // FUSE_PASSTHROUGH is bit 37 of the 64-bit flags
  });

  it('puts max_stack_depth at 36 of fuse_init_out, and backing_id at 12 of fuse_open_out', () => {
    const b = Buffer.alloc(INIT_OUT_SIZE);
    writeInitOut(b, 0, { minor: 38, maxReadahead: 1, flags: 2, flags2: 32, maxBackground: 3, congestionThreshold: 4, maxWrite: 5, timeGran: 6, maxPages: 7, maxStackDepth: 1 });
    expect([b.readUInt32LE(32), b.readUInt32LE(36)]).toEqual([32, 1]);
    const o = Buffer.alloc(OPEN_OUT_SIZE);
    writeOpenOut(o, 0, 9, FOPEN_PASSTHROUGH, 42);
    expect([o.readUInt32LE(0), o.readUInt32LE(8), o.readInt32LE(12)]).toEqual([9, 1 << 7, 42]);
  });

  it('fuse_init_out is 64 bytes with max_write at 20 and max_pages at 28', () => {
    const b = Buffer.alloc(INIT_OUT_SIZE);
    writeInitOut(b, 0, { minor: 38, maxReadahead: 1, flags: 2, maxBackground: 3, congestionThreshold: 4, maxWrite: 5, timeGran: 6, maxPages: 7 });
    expect([b.readUInt32LE(0), b.readUInt32LE(4), b.readUInt32LE(8), b.readUInt32LE(12)]).toEqual([7, 38, 1, 2]);
    expect([b.readUInt16LE(16), b.readUInt16LE(18), b.readUInt32LE(20), b.readUInt32LE(24), b.readUInt16LE(28)]).toEqual([3, 4, 5, 6, 7]);
  });
});
