// What a merge (src/host/apply-merge.ts) does to the inode-number origin records of
// src/host/inode-origin.ts: a record stays on an object that lands at its origin's place, goes from
// a renamed copy (and from anything under a moved directory that is not at its origin's place), and
// a materialised metacopy file keeps its record. Real directories, aufs format (user.* xattrs).
import { existsSync, lstatSync, mkdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeOrigin, encodeOrigin, type OriginRecord } from '../../src/core/inode-number.js';
import type { MergeStep } from '../../src/core/merge/plan.js';
import { aufsFormat } from '../../src/core/whiteout/aufs.js';
import { runSteps, type MergeSides } from '../../src/host/apply-merge.js';
import { getXattr, setXattr } from '../../src/host/xattr.js';
import { tempDir } from '../helpers/worldfs.js';

const record = (rel: string): OriginRecord => ({ layer: '2.1700000000000000000', rel, ino: 77n, btimeNs: 1700000000000000001n });
const recordOn = (path: string) => {
  const v = getXattr(path, aufsFormat.origin);
  return v === undefined ? undefined : decodeOrigin(v.toString('utf8'))?.rel;
};

describe('a merge and the origin records', () => {
  let tmp: ReturnType<typeof tempDir>;
  let sides: MergeSides;
  beforeEach(() => {
    tmp = tempDir('worldos-ino-merge-');
    const d = (n: string) => { const p = join(tmp.path, n); mkdirSync(p, { recursive: true }); return p; };
    sides = {
      source: { layer: d('src'), work: d('src-work') },
      target: { layer: d('dst'), work: d('dst-work') },
      format: aufsFormat,
      trash: join(tmp.path, 'trash'),
    };
  });
  afterEach(() => tmp.cleanup());

  const put = (rel: string, originRel?: string) => {
    const p = join(sides.source.layer, rel);
    writeFileSync(p, rel);
    if (originRel !== undefined) setXattr(p, aufsFormat.origin, encodeOrigin(record(originRel)));
    return p;
  };

  it('keeps a record at its origin\'s place and drops it from renamed copies, inside moved directories too', () => {
    put('x', 'x');
    put('y', 'a');                                   // a copy renamed from a to y
    mkdirSync(join(sides.source.layer, 'nd'));
    put('nd/z', 'z');                                // a copy moved into a new directory
    put('nd/w', 'nd/w');                             // at its origin's place (the directory was there below)
    const steps: MergeStep[] = [
      { op: 'move', side: 'source', src: 'x', dst: 'x' },
      { op: 'move', side: 'source', src: 'y', dst: 'y' },
      { op: 'move', side: 'source', src: 'nd', dst: 'nd' },
    ];
    runSteps(sides, steps, join(tmp.path, 'progress'), 1);
    const t = (rel: string) => recordOn(join(sides.target.layer, rel));
    expect({ x: t('x'), y: t('y'), z: t('nd/z'), w: t('nd/w') }).toEqual({ x: 'x', y: undefined, z: undefined, w: 'nd/w' });
  });

  it('drops the origin-table entry of a symlink a merge moves away from its origin\'s place', () => {
    const t = sides.target.layer;
    mkdirSync(join(t, 'old'));
    symlinkSync('x', join(t, 'old', 's'));
    symlinkSync('x', join(t, 'k'));
    const entryOf = (p: string) => {
      const st = lstatSync(p, { bigint: true });
      return join(t, aufsFormat.originTable!, `${st.ino}.${st.birthtimeNs}`);
    };
    mkdirSync(join(t, aufsFormat.originTable!));
    symlinkSync(encodeOrigin(record('old/s')), entryOf(join(t, 'old', 's')));
    symlinkSync(encodeOrigin(record('k')), entryOf(join(t, 'k')));
    const moved = entryOf(join(t, 'old', 's'));
    runSteps(sides, [{ op: 'move', side: 'target', src: 'old', dst: 'new' }, { op: 'move', side: 'target', src: 'k', dst: 'k' }], join(tmp.path, 'progress'), 1);
    expect(existsSync(moved)).toBe(false);
    expect(readlinkSync(entryOf(join(t, 'k')))).toContain('"k"');
  });

  it('settles a move that a crash left done but unrecorded', () => {
    put('y', 'a');
    const progress = join(tmp.path, 'progress');
    // The rename happened, the settling did not: the resumed step finds the source gone.
    const moved = join(sides.target.layer, 'y');
    writeFileSync(moved, 'y');
    setXattr(moved, aufsFormat.origin, encodeOrigin(record('a')));
    runSteps(sides, [{ op: 'move', side: 'source', src: 'gone', dst: 'y' }], progress, 1);
    expect(recordOn(moved)).toBeUndefined();
  });

  it('keeps the record of a metacopy file it materialises', () => {
    const data = join(tmp.path, 'lower-data');
    writeFileSync(data, 'the data below');
    const m = put('m', 'm');
    setXattr(m, aufsFormat.metacopy, '');
    runSteps(sides, [{ op: 'materialize', rel: 'm', from: data }], join(tmp.path, 'progress'), 1);
    expect(getXattr(m, aufsFormat.metacopy)).toBeUndefined();
    expect(recordOn(m)).toBe('m');
  });
});
