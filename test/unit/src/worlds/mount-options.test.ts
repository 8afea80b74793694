// The worldfs options a world's daemon gets (src/worlds/daemon.ts mountOptions): as root its
// layers are watched and the kernel opens files itself unless the world asked for its daemon to
// (create --open daemon); rootless, nothing is cached and the ids are squashed.
import { describe, expect, it } from 'vitest';
import { mountOptions, type MountRequest } from '../../../../src/worlds/daemon.js';

const REQ: MountRequest = {
  lowers: ['/s/worlds/w1/layer', '/'], upper: '/s/worlds/w2/layer', work: '/s/worlds/w2/work', whiteout: 'aufs',
  prune: ['/proc', '/s'], seenlog: '/s/worlds/w2/seen', log: '/s/worlds/w2/worldfs.log', mountpoint: '/s/mnt/w2',
  stack: '/s/stacks/w2.json', suid: true, kernelOpens: true,
};
const opts = (r: MountRequest, uid = 0) => mountOptions(r, uid, uid).split(',');

describe('mountOptions', () => {
  it('as root: watched layers, the world\'s fence, suid,dev, and the kernel opening files', () => {
    const o = opts(REQ);
    expect(o).toEqual(expect.arrayContaining(['notify=auto', 'fence=/s/worlds/w2/fence', 'suid', 'dev', 'open=kernel', 'timeout=0']));
    expect(o[0]).toBe('lowerdir=/s/worlds/w1/layer:/');
  });

  it('a world created with --open daemon: no open=kernel (its opens are requests, passthrough serves data)', () => {
    expect(opts({ ...REQ, kernelOpens: false })).not.toContain('open=kernel');
  });

  it('as root, the node budget of a world created with --nodes (none otherwise: worldfs\'s default); rootless, none', () => {
    expect(opts({ ...REQ, maxNodes: 4096 })).toContain('nodes=4096');
    expect(opts({ ...REQ, maxNodes: 0 })).toContain('nodes=0');
    expect(opts(REQ).some((x) => x.startsWith('nodes='))).toBe(false);
    expect(opts({ ...REQ, maxNodes: 4096 }, 1000).some((x) => x.startsWith('nodes='))).toBe(false);
  });

  it('as root, a journal for a takeover when the request names one (worldctl always does); rootless, none', () => {
    expect(opts({ ...REQ, journal: '/s/stacks/w2.nodes' })).toContain('journal=/s/stacks/w2.nodes');
    expect(opts(REQ).some((x) => x.startsWith('journal='))).toBe(false);
    expect(opts({ ...REQ, journal: '/s/stacks/w2.nodes' }, 1000).some((x) => x.startsWith('journal='))).toBe(false);
  });

  it('rootless: no watch, no open=kernel, ids squashed to the caller', () => {
    const o = opts(REQ, 1000);
    expect(o).not.toContain('open=kernel');
    expect(o).not.toContain('notify=auto');
    expect(o).toEqual(expect.arrayContaining(['squash_to_uid=1000', 'squash_to_gid=1000']));
  });
});
