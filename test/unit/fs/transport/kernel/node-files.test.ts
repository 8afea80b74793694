// Handles of files the kernel opens itself (fs/transport/kernel/node-files.ts): the decision made
// once, a handle per node reused while it is of the node's current copy, a writable one when a
// write needs it, least recently used ones closed past the cap, and an unlinked node's handle kept
// until FORGET. The host is a recorder: which opens and closes the table asks for, and when.
import { describe, expect, it } from 'vitest';
import { InodeTable, type Node } from '../../../../../fs/transport/kernel/inodes.js';
import { NodeFiles, type NodeFileHost } from '../../../../../fs/transport/kernel/node-files.js';

function setup(max = 3, wanted = true) {
  const log: string[] = [];
  let next = 100;
  const open = new Set<number>();
  const host: NodeFileHost = {
    open: (node, writable) => {
      const fh = next++;
      open.add(fh);
      log.push(`open ${node.id} ${writable ? 'rw' : 'ro'} -> ${fh}`);
      return fh;
    },
    reopenWritable: (fh, node) => {
      const rw = next++;
      open.add(rw);
      log.push(`reopen ${fh} of ${node.id} rw -> ${rw}`);
      return rw;
    },
    release: (fh) => {
      if (!open.delete(fh)) throw new Error(`release of ${fh}, which is not open`);
      log.push(`close ${fh}`);
    },
  };
  const files = new NodeFiles(host, wanted, max);
  files.opens.offered = true;
  const t = new InodeTable();
  const file = (name: string, key: string): Node => {
    const n = t.lookup(t.root, name, false, key);
    return n;
  };
  return { files, t, file, log, open };
}

describe('NodeFiles', () => {
  it('decides once: the mount asked, the kernel can, and every layer is notified', () => {
    const a = setup();
    expect(a.files.opensItself(true)).toBe(true);
    expect(a.files.opensItself(false)).toBe(true); // decided at the first call
    expect(a.files.opens.active).toBe(true);
    const b = setup();
    expect(b.files.opensItself(false)).toBe(false);
    expect(b.files.opensItself(true)).toBe(false);
    expect(b.files.opens.active).toBe(false);
    const c = setup(3, false);
    expect(c.files.opensItself(true)).toBe(false);
    const d = setup();
    d.files.opens.offered = false; // a kernel without FUSE_NO_OPEN_SUPPORT
    expect(d.files.opensItself(true)).toBe(false);
  });

  it('opens a node once and reuses its handle, read-only until a write asks for more', () => {
    const { files, file, log } = setup();
    const f = file('f', '1:1');
    const ro = files.handle(f, false);
    expect(files.handle(f, false)).toBe(ro);
    expect(files.writableOf(f)).toBeUndefined(); // a read-only handle does not do for a write
    const rw = files.handle(f, true);
    expect(rw).not.toBe(ro);
    expect(files.handle(f, false)).toBe(rw); // a writable one serves reads too
    expect(files.writableOf(f)).toBe(rw);
    expect(log).toEqual([`open ${f.id} ro -> 100`, `open ${f.id} rw -> 101`, 'close 100']);
  });

  it('opens again when the node is another copy now (a copy-up rekeyed it)', () => {
    const { files, file, t, log } = setup();
    const f = file('f', '1:1');
    const first = files.handle(f, false);
    t.setKey(f, '2:7');
    const second = files.handle(f, false);
    expect(second).not.toBe(first);
    expect(log).toEqual([`open ${f.id} ro -> 100`, `open ${f.id} ro -> 101`, 'close 100']);
    expect(files.writableOf(f)).toBeUndefined();
  });

  it('closes the least recently used handles past the cap', () => {
    const { files, file, log, open } = setup(2);
    const [a, b, c] = [file('a', '1:1'), file('b', '1:2'), file('c', '1:3')];
    files.handle(a, false);
    files.handle(b, false);
    files.handle(a, false); // a is the most recently used now
    files.handle(c, false);
    expect(log.at(-1)).toBe('close 101'); // b's
    expect(files.size).toBe(2);
    expect(open.size).toBe(2);
    expect(files.counters).toEqual({ opened: 3, evicted: 1 });
  });

  it('keeps an unlinked node\'s handle past the cap and until FORGET drops it', () => {
    const { files, file, t, log, open } = setup(1);
    const gone = file('gone', '1:1');
    files.keepAlive(gone, true);
    t.unlinkName(t.root, 'gone');
    expect(gone.links).toHaveLength(0);
    expect(t.get(gone.id)).toBe(gone); // the kernel still holds it
    files.handle(file('x', '1:2'), false);
    files.handle(file('y', '1:3'), false);
    expect(files.keptOf(gone)).toBe(100); // never evicted
    expect(files.handle(gone, true)).toBe(100);
    t.forget(gone.id, 1);
    expect(t.get(gone.id)).toBeUndefined();
    files.drop(gone.id);
    expect(files.keptOf(gone)).toBeUndefined();
    expect(open.has(100)).toBe(false);
    expect(log).toContain('close 100');
  });

  it('a write to an unlinked node kept read-only reopens its file read-write (no name to open it by)', () => {
    const { files, file, t, log } = setup();
    const f = file('low', '1:1');
    files.keepAlive(f, false);
    t.unlinkName(t.root, 'low');
    const rw = files.handle(f, true);
    expect(log).toEqual([`open ${f.id} ro -> 100`, `reopen 100 of ${f.id} rw -> 101`, 'close 100']);
    expect(files.writableOf(f)).toBe(rw);
  });

  it('keepAlive keeps nothing for a directory, a node the kernel does not hold, or one kept already', () => {
    const { files, t, file, log } = setup();
    const d = t.lookup(t.root, 'd', true);
    files.keepAlive(d, false);
    const f = file('f', '1:1');
    f.nlookup = 0;
    files.keepAlive(f, false);
    expect(log).toEqual([]);
    const g = file('g', '1:2');
    files.keepAlive(g, false);
    files.keepAlive(g, true);
    expect(log).toEqual([`open ${g.id} ro -> 100`]);
  });

  it('keepAlive of a file the daemon cannot open keeps nothing and throws nothing', () => {
    const t = new InodeTable();
    const files = new NodeFiles({ open: () => { throw new Error('EACCES'); }, reopenWritable: () => 0, release: () => {} }, true);
    const f = t.lookup(t.root, 'f', false, '1:1');
    expect(() => files.keepAlive(f, false)).not.toThrow();
    expect(files.size).toBe(0);
  });
});
