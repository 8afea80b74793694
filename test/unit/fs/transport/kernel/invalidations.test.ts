// What CacheLedger.forChanges asks the kernel to forget for changed view names: the directory's
// attributes, the name (expired, or a plain invalidation for a non-directory when the kernel cannot
// expire only), the named node and every node known below it; nothing for unknown directories.
import { describe, expect, it } from 'vitest';
import { CacheLedger, nodeAt } from '../../../../../fs/transport/kernel/invalidations.js';
import { InodeTable } from '../../../../../fs/transport/kernel/inodes.js';
import { Notify, OUT_HEADER_SIZE } from '../../../../../fs/transport/kernel/protocol.js';

/** A notification as text: "inode N" or "entry P/name[ expire]". */
function describe1(b: Buffer): string {
  const code = b.readInt32LE(4);
  if (code === Notify.INVAL_INODE) return `inode ${Number(b.readBigUInt64LE(OUT_HEADER_SIZE))}`;
  const parent = Number(b.readBigUInt64LE(OUT_HEADER_SIZE));
  const len = b.readUInt32LE(OUT_HEADER_SIZE + 8);
  const flags = b.readUInt32LE(OUT_HEADER_SIZE + 12);
  return `entry ${parent}/${b.subarray(OUT_HEADER_SIZE + 16, OUT_HEADER_SIZE + 16 + len).toString()}${flags ? ' expire' : ''}`;
}

function table() {
  const t = new InodeTable();
  const d = t.lookup(t.root, 'd', true);
  const f = t.lookup(d, 'f', false, '1:1');
  const sub = t.lookup(d, 'sub', true);
  const g = t.lookup(sub, 'g', false, '1:2');
  const other = t.lookup(t.root, 'other', false, '1:3');
  return { t, d, f, sub, g, other };
}

describe('CacheLedger.forChanges', () => {
  it('finds nodes by view directory, the root included', () => {
    const { t, d, sub } = table();
    expect(nodeAt(t, '')).toBe(t.root);
    expect(nodeAt(t, 'd')).toBe(d);
    expect(nodeAt(t, 'd/sub')).toBe(sub);
    expect(nodeAt(t, 'd/nope')).toBeUndefined();
  });

  it('invalidates the directory, the name and the file it names', () => {
    const { t, d, f } = table();
    const out = new CacheLedger(t).forChanges([{ dir: 'd', name: 'f' }], true).map(describe1);
    expect(out).toEqual([`inode ${d.id}`, `entry ${d.id}/f expire`, `inode ${f.id}`]);
  });

  it('invalidates a name the kernel may hold as negative (no node)', () => {
    const { t, d } = table();
    expect(new CacheLedger(t).forChanges([{ dir: 'd', name: 'new' }], true).map(describe1)).toEqual([`inode ${d.id}`, `entry ${d.id}/new expire`]);
  });

  it('expires everything known below a changed directory, and leaves the rest', () => {
    const { t, d, sub, g, other } = table();
    const out = new CacheLedger(t).forChanges([{ dir: 'd', name: 'sub' }], true).map(describe1);
    expect(out).toEqual([`inode ${d.id}`, `entry ${d.id}/sub expire`, `inode ${sub.id}`, `entry ${sub.id}/g expire`, `inode ${g.id}`]);
    expect(out.join(' ')).not.toContain(`inode ${other.id}`);
  });

  it('for a file written or chmod\'ed invalidates only its node; a directory or an unknown name gets the full treatment', () => {
    const { t, d, f, sub, g } = table();
    const ledger = new CacheLedger(t);
    expect(ledger.forChanges([{ dir: 'd', name: 'f', contentOnly: true }], true).map(describe1)).toEqual([`inode ${f.id}`]);
    expect(ledger.forChanges([{ dir: 'd', name: 'sub', contentOnly: true }], true).map(describe1))
      .toEqual([`inode ${d.id}`, `entry ${d.id}/sub expire`, `inode ${sub.id}`, `entry ${sub.id}/g expire`, `inode ${g.id}`]);
    expect(ledger.forChanges([{ dir: 'd', name: 'new', contentOnly: true }], true).map(describe1)).toEqual([`inode ${d.id}`, `entry ${d.id}/new expire`]);
  });

  it('for a file with several names written in place, invalidates every node of that host file', () => {
    const { t, d, f } = table();
    const other = t.lookup(t.root, 'h2', false, '1:1'); // another name of the file d/f is, its own node
    expect(other).not.toBe(f);
    const out = new CacheLedger(t).forChanges([{ dir: 'd', name: 'f', contentOnly: true, key: '1:1' }], true).map(describe1);
    expect(out.sort()).toEqual([`inode ${f.id}`, `inode ${other.id}`].sort());
    expect(out.join(' ')).not.toContain(`inode ${d.id}`);
  });

  it('invalidates a directory\'s attributes once for many names changed in it', () => {
    const { t, d } = table();
    const out = new CacheLedger(t).forChanges([{ dir: 'd', name: 'a' }, { dir: 'd', name: 'b' }], true).map(describe1);
    expect(out.filter((x) => x === `inode ${d.id}`)).toHaveLength(1);
  });

  it('without expire-only, never invalidates a directory name (that would unmount what is mounted on it)', () => {
    const { t, d, sub } = table();
    const out = new CacheLedger(t).forChanges([{ dir: '', name: 'd' }, { dir: 'd', name: 'f' }], false).map(describe1);
    expect(out).not.toContain(`entry ${t.root.id}/d`);
    expect(out).not.toContain(`entry ${d.id}/sub`);
    expect(out).toContain(`entry ${d.id}/f`);
    expect(out).toContain(`inode ${sub.id}`);
  });

  it('treats a change to every entry of a directory as each of them, and skips directories the kernel does not know', () => {
    const { t, d, f, sub } = table();
    const out = new CacheLedger(t).forChanges([{ dir: 'd', name: undefined }, { dir: 'gone', name: 'x' }], true).map(describe1);
    expect(out).toEqual(expect.arrayContaining([`inode ${d.id}`, `entry ${d.id}/f expire`, `inode ${f.id}`, `entry ${d.id}/sub expire`, `inode ${sub.id}`]));
    expect(out.some((s) => s.includes('/x'))).toBe(false);
  });
});
