// planMarks (src/core/fanotify-marks.ts): which filesystems a fanotify watch of some layers marks,
// from a mount table given as data — the base `/` of a world spanning several mounts, pruned and
// hidden ones left out, bind mounts named through the mount closest to their filesystem's root.
import { describe, expect, it } from 'vitest';
import { mountOf, planMarks, type MountLine } from '../../../../src/core/fanotify-marks.js';

const m = (mountpoint: string, dev: string, fstype = 'ext4', root = '/'): MountLine => ({ mountpoint, dev, fstype, root });

const HOST = [
  m('/', '254:0'),
  m('/proc', '0:20', 'proc'),
  m('/sys', '0:21', 'sysfs'),
  m('/dev', '0:6', 'devtmpfs'),
  m('/dev/shm', '0:22', 'tmpfs'),
  m('/mnt/tools', '0:24', 'tmpfs'),
  m('/srv/data', '8:1', 'xfs'),
  m('/home/me/.worldos/mnt/w1', '0:39', 'fuse.worldfs'),
  m('/home/me/.worldos/mnt/w1/inside', '0:50', 'tmpfs'),
];

describe('planMarks', () => {
  it('marks every filesystem a base / spans, except pruned paths, FUSE mounts and what lies below them', () => {
    const plan = planMarks(HOST, [{ layer: 2, root: '/', skip: ['proc', 'sys', 'dev', 'home/me/.worldos'] }]);
    expect(plan.filesystems.map((f) => [f.dev, f.mark, f.path])).toEqual([
      ['254:0', 'filesystem', '/'], ['0:24', 'filesystem', '/mnt/tools'], ['8:1', 'filesystem', '/srv/data'],
    ]);
    expect(plan.spans.get(2)).toEqual([{ dev: '254:0', at: '' }, { dev: '0:24', at: 'mnt/tools' }, { dev: '8:1', at: 'srv/data' }]);
  });

  it('marks only the filesystem a small layer is on, and the fence directory alone when no layer spans its filesystem', () => {
    const plan = planMarks(HOST, [{ layer: 1, root: '/srv/data/layers/a' }], [], '/dev/shm/fence');
    expect(plan.filesystems).toEqual([
      { dev: '8:1', mark: 'filesystem', path: '/srv/data', mounts: [['/', '/srv/data']] },
      { dev: '0:22', mark: 'dir', path: '/dev/shm/fence', mounts: [['/', '/dev/shm']] },
    ]);
    expect(planMarks(HOST, [{ layer: 1, root: '/srv/data/a' }], [], '/srv/data/fence').filesystems).toHaveLength(1);
  });

  it('leaves out mounts below a `never` path (our own mountpoint)', () => {
    const plan = planMarks(HOST, [{ layer: 1, root: '/' }], ['/mnt']);
    expect(plan.filesystems.map((f) => f.path)).not.toContain('/mnt/tools');
  });

  it('names a filesystem mounted twice through the mount closest to its root, listing both', () => {
    const table = [m('/', '254:0'), m('/work', '254:0', 'ext4', '/srv/work'), m('/srv', '8:1', 'xfs', '/')];
    const plan = planMarks(table, [{ layer: 1, root: '/' }]);
    expect(plan.filesystems.find((f) => f.dev === '254:0')?.mounts).toEqual([['/', '/'], ['/srv/work', '/work']]);
  });

  it('takes the topmost of mounts stacked on one mountpoint', () => {
    const table = [m('/', '254:0'), m('/data', '8:1'), m('/data', '8:2')];
    expect(mountOf(table, '/data/x')?.dev).toBe('8:2');
    expect(planMarks(table, [{ layer: 1, root: '/data/x' }]).filesystems.map((f) => f.dev)).toEqual(['8:2']);
  });
});
