// The worldfs command line (fs/options.ts): both the fuse-overlayfs form and the mount(8) helper form,
// lowerdir escapes, defaults, and usage errors.
import { describe, expect, it } from 'vitest';
import { BUSY_POLL_US, MAX_NODES, parseArgs, splitLowerdirs, UsageError, USAGE, type MountOptions } from '../../../fs/options.js';

const BASE = 'lowerdir=/l1:/l2,upperdir=/u';

/** The same mount written in each command-line form. */
const FORMS: readonly (readonly [string, (o: string) => string[]])[] = [
  ['worldfs -o OPTS MNT', (o) => ['-o', o, '/mnt']],
  ['worldfs -oOPTS MNT', (o) => ['-o' + o, '/mnt']],
  ['worldfs MNT -o OPTS', (o) => ['/mnt', '-o', o]],
  ['worldfs SOURCE MNT -o OPTS (mount -t fuse.worldfs)', (o) => ['myworld', '/mnt', '-o', o]],
  ['worldfs SOURCE MNT -o OPTS -t TYPE -n', (o) => ['myworld', '/mnt', '-o', o, '-t', 'fuse.worldfs', '-n']],
];

describe.each(FORMS)('parseArgs, %s', (_form, argv) => {
  it('reads the mountpoint, layers and directories', () => {
    const o = parseArgs(argv(BASE + ',workdir=/w'));
    expect(o.mountpoint).toBe('/mnt');
    expect(o.lowerdirs).toEqual(['/l1', '/l2']);
    expect(o.upperdir).toBe('/u');
    expect(o.workdir).toBe('/w');
  });

  it('uses aufs whiteouts, udba=reval, a 1 s cache timeout and fsync when nothing else is asked for', () => {
    const o = parseArgs(argv(BASE));
    expect(o).toMatchObject({
      whiteout: 'aufs', udba: 'reval', cacheTimeout: 1, fsync: true, allowOther: true, kernelFlags: [],
    } satisfies Partial<MountOptions>);
    expect(o.workdir).toBeUndefined();
    expect(o.log).toBeUndefined();
    expect(o.prune).toEqual([]);
    expect(o.seenlog).toBeUndefined();
  });

  it('passes kernel mount flags through in order and ignores the options mount(8) adds', () => {
    const o = parseArgs(argv(`${BASE},rw,ro,nosuid,nodev,noexec,relatime,defaults,_netdev,x-systemd.automount,allow_other,user=me`));
    expect(o.kernelFlags).toEqual(['ro', 'nosuid', 'nodev', 'noexec']);
  });

  it('rejects an unknown option with a UsageError that names it', () => {
    expect(() => parseArgs(argv(`${BASE},bogus=1`))).toThrow(UsageError);
    expect(() => parseArgs(argv(`${BASE},bogus=1`))).toThrow(/unknown option "bogus=1"/);
  });
});

describe('parseArgs', () => {
  const parse = (opts: string, ...flags: string[]) => parseArgs([...flags, '-o', opts, '/mnt']);

  it('names the mount after SOURCE in the mount(8) form and "worldfs" otherwise', () => {
    expect(parseArgs(['myworld', '/mnt', '-o', BASE]).fsname).toBe('myworld');
    expect(parse(BASE).fsname).toBe('worldfs');
  });

  it('takes passthrough=auto (the default) or off, and nothing else', () => {
    expect(parse(BASE).passthrough).toBe('auto');
    expect(parse(`${BASE},passthrough=off`).passthrough).toBe('off');
    expect(() => parse(`${BASE},passthrough=on`)).toThrow(/passthrough=on: expected auto or off/);
  });

  it('takes open=daemon (the default) or kernel, and nothing else', () => {
    expect(parse(BASE).open).toBe('daemon');
    expect(parse(`${BASE},open=kernel`).open).toBe('kernel');
    expect(() => parse(`${BASE},open=user`)).toThrow(/open=user: expected daemon or kernel/);
  });

  it('takes readdirplus=always (the default) or auto, and nothing else', () => {
    expect(parse(BASE).readdirplus).toBe('always');
    expect(parse(`${BASE},readdirplus=auto`).readdirplus).toBe('auto');
    expect(() => parse(`${BASE},readdirplus=never`)).toThrow(/readdirplus=never: expected always or auto/);
  });

  it('takes journal=FILE, but not with transport=native (libfuse owns its connection)', () => {
    expect(parse(BASE).journal).toBeUndefined();
    expect(parse(`${BASE},journal=/s/j`).journal).toBe('/s/j');
    expect(() => parse(`${BASE},journal=/s/j,transport=native`)).toThrow(/journal= needs transport=kernel/);
  });

  it('takes busy_poll=MICROSECONDS (default BUSY_POLL_US; 0 is off), a whole number up to 10000, not with transport=native', () => {
    expect(parse(BASE).busyPollUs).toBe(BUSY_POLL_US);
    expect(parse(`${BASE},busy_poll=0`).busyPollUs).toBe(0);
    expect(parse(`${BASE},busy_poll=250`).busyPollUs).toBe(250);
    for (const bad of ['-1', '1.5', '10001', 'x']) expect(() => parse(`${BASE},busy_poll=${bad}`)).toThrow(/expected a whole number of microseconds/);
    expect(() => parse(`${BASE},busy_poll=`)).toThrow(/needs a value/);
    expect(() => parse(`${BASE},busy_poll=50,transport=native`)).toThrow(/busy_poll= needs transport=kernel/);
    expect(parse(`${BASE},busy_poll=0,transport=native`).busyPollUs).toBe(0);
  });

  it('takes nodes=N, 1024 or more or 0 for no bound (default MAX_NODES; 0 with transport=native, which refuses a bound)', () => {
    expect(parse(BASE).maxNodes).toBe(MAX_NODES);
    expect(parse(`${BASE},transport=native`).maxNodes).toBe(0);
    expect(parse(`${BASE},nodes=0`).maxNodes).toBe(0);
    expect(parse(`${BASE},nodes=1024`).maxNodes).toBe(1024);
    for (const bad of ['-1', '1.5', '1023', 'x', String(2 ** 30 + 1)]) expect(() => parse(`${BASE},nodes=${bad}`)).toThrow(/expected 0 \(no bound\) or a whole number of nodes from 1024/);
    expect(() => parse(`${BASE},nodes=`)).toThrow(/needs a value/);
    expect(() => parse(`${BASE},nodes=4096,transport=native`)).toThrow(/nodes= needs transport=kernel/);
    expect(parse(`${BASE},nodes=0,transport=native`).maxNodes).toBe(0);
  });

  it('takes acl (the kernel checks POSIX ACLs), off by default, and not with transport=native', () => {
    expect(parse(BASE).acl).toBe(false);
    expect(parse(`${BASE},acl`).acl).toBe(true);
    expect(() => parse(`${BASE},acl,transport=native`)).toThrow(/acl needs transport=kernel/);
  });

  it('takes writeback_cache only with udba=none, and not with transport=native', () => {
    expect(parse(BASE).writebackCache).toBe(false);
    expect(parse(`${BASE},udba=none,writeback_cache`).writebackCache).toBe(true);
    expect(() => parse(`${BASE},writeback_cache`)).toThrow(/writeback_cache needs udba=none/);
    expect(() => parse(`${BASE},udba=none,writeback_cache,transport=native`)).toThrow(/needs transport=kernel/);
  });

  it('refuses a notify= it does not know and a notify_timeout= that is not a number of seconds', () => {
    expect(() => parse(`${BASE},notify=dnotify`)).toThrow(/notify=dnotify: expected none or auto or inotify or fanotify/);
    expect(() => parse(`${BASE},notify_timeout=-1`)).toThrow(/notify_timeout=-1/);
  });

  it('names the mount after an fsname= option when no SOURCE is given', () => {
    expect(parse(`${BASE},fsname=myworld`).fsname).toBe('myworld');
  });

  it.for([
    ['udba=none', { udba: 'none', cacheTimeout: 3600 }],
    ['udba=reval', { udba: 'reval', cacheTimeout: 1 }],
    ['udba=none,timeout=5', { udba: 'none', cacheTimeout: 5 }],
    ['timeout=5,udba=none', { udba: 'none', cacheTimeout: 5 }],
    ['timeout=0', { udba: 'reval', cacheTimeout: 0 }],
    ['timeout=0.25', { udba: 'reval', cacheTimeout: 0.25 }],
    ['timeout=0', { notify: 'auto', notifiedTimeout: 300 }],
    ['notify=none', { notify: 'none' }],
    ['notify=inotify,timeout=0', { notify: 'inotify', cacheTimeout: 0, notifiedTimeout: 300 }],
    ['notify=inotify,notify_timeout=60,fence=/run/f', { notify: 'inotify', notifiedTimeout: 60, fence: '/run/f' }],
    ['notify=fanotify', { notify: 'fanotify' }],
    ['notify=auto', { notify: 'auto' }],
  ] as const)('%s gives %j', ([extra, want]) => {
    expect(parse(`${BASE},${extra}`)).toMatchObject(want);
  });

  it.for([
    ['whiteout=overlay', { whiteout: 'overlay' }],
    ['whiteout=overlay-user', { whiteout: 'overlay-user' }],
    ['whiteout=overlay,whiteout=aufs', { whiteout: 'aufs' }],
    ['volatile', { fsync: false }],
    ['noallow_other', { allowOther: false }],
    ['log=/tmp/worldfs.log', { log: '/tmp/worldfs.log' }],
    ['upperdir=/a=b', { upperdir: '/a=b' }],
    ['prune=/proc:/sys:/a\\:b', { prune: ['/proc', '/sys', '/a:b'] }],
    ['seenlog=/tmp/seen.log', { seenlog: '/tmp/seen.log' }],
    ['squash_to_uid=1001,squash_to_gid=1002', { squash: { uid: 1001, gid: 1002 } }],
    ['squash_to_root', { squash: { uid: 0, gid: 0 } }],
  ] as const)('%s gives %j', ([extra, want]) => {
    expect(parse(`${BASE},${extra}`)).toMatchObject(want);
  });

  it('merges several -o arguments, later values winning', () => {
    const o = parseArgs(['-o', 'lowerdir=/l', '-o', 'upperdir=/u1,ro', '-o', 'upperdir=/u2', '/mnt']);
    expect(o).toMatchObject({ lowerdirs: ['/l'], upperdir: '/u2', kernelFlags: ['ro'] });
  });

  it('trims blanks and skips empty items in an option list', () => {
    expect(parse(` lowerdir=/l ,, upperdir=/u ,`)).toMatchObject({ lowerdirs: ['/l'], upperdir: '/u' });
  });

  it.for([
    [['-f'], { foreground: true, debug: false }],
    [['--foreground'], { foreground: true, debug: false }],
    [['-d'], { foreground: true, debug: true }],
    [['--debug'], { foreground: true, debug: true }],
    [[], { foreground: false, debug: false }],
    [['-s', '-v'], { foreground: false, debug: false }],
  ] as const)('the flags %j give %j', ([flags, want]) => {
    expect(parse(BASE, ...flags)).toMatchObject(want);
  });

  it.for([
    ['lowerdir=/a\\:b:/c', ['/a:b', '/c']],
    ['lowerdir=/a\\\\b', ['/a\\b']],
    ['lowerdir=/only', ['/only']],
    ['lowerdir=/a:/b:/c', ['/a', '/b', '/c']],
  ] as const)('%s gives the layers %j', ([opt, want]) => {
    expect(parse(`${opt},upperdir=/u`).lowerdirs).toEqual(want);
  });

  it.for([
    ['missing lowerdir', ['-o', 'upperdir=/u', '/mnt'], /missing lowerdir/],
    ['missing upperdir', ['-o', 'lowerdir=/l', '/mnt'], /missing upperdir/],
    ['missing mountpoint', ['-o', BASE], /missing MOUNTPOINT/],
    ['three positional arguments', ['a', 'b', 'c', '-o', BASE], /too many arguments/],
    ['-o without a value', ['/mnt', '-o'], /-o needs a value/],
    ['an unknown flag', ['-x', '-o', BASE, '/mnt'], /unknown flag -x/],
    ['an empty lowerdir', ['-o', 'lowerdir=,upperdir=/u', '/mnt'], /lowerdir needs a value/],
    ['an empty layer in lowerdir', ['-o', 'lowerdir=/a::/b,upperdir=/u', '/mnt'], /empty layer path/],
    ['a trailing colon in lowerdir', ['-o', 'lowerdir=/a:,upperdir=/u', '/mnt'], /empty layer path/],
    ['an option that needs a value without one', ['-o', `${BASE},upperdir`, '/mnt'], /upperdir needs a value/],
    ['udba=bogus', ['-o', `${BASE},udba=bogus`, '/mnt'], /udba=bogus: expected reval or none/],
    ['a negative timeout', ['-o', `${BASE},timeout=-1`, '/mnt'], /timeout=-1/],
    ['a timeout that is not a number', ['-o', `${BASE},timeout=soon`, '/mnt'], /timeout=soon/],
    ['an infinite timeout', ['-o', `${BASE},timeout=Infinity`, '/mnt'], /timeout=Infinity/],
    ['an unknown option', ['-o', `${BASE},frobnicate`, '/mnt'], /unknown option "frobnicate"/],
    ['an empty layer in prune', ['-o', `${BASE},prune=/proc::/sys`, '/mnt'], /empty layer path/],
    ['a squash uid that is a name', ['-o', `${BASE},squash_to_uid=alice`, '/mnt'], /squash_to_uid=alice: expected a numeric id/],
    ['a negative squash gid', ['-o', `${BASE},squash_to_gid=-1`, '/mnt'], /squash_to_gid=-1/],
  ] as const)('%s is a UsageError', ([, argv, message]) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });

  it.for([['-h'], ['--help']])('%s answers with the usage text as a UsageError', ([flag]) => {
    expect(() => parseArgs([flag!])).toThrow(new UsageError(USAGE));
  });
});

describe('splitLowerdirs', () => {
  it.for([
    ['/a', ['/a']],
    ['/a:/b', ['/a', '/b']],
    ['/a\\:b', ['/a:b']],
    ['/a\\::/b', ['/a:', '/b']],
    ['/a\\\\:/b', ['/a\\', '/b']],
    ['/a\\', ['/a\\']],
    ['/a b:/c,d', ['/a b', '/c,d']],
  ] as const)('splits %j into %j', ([value, want]) => {
    expect(splitLowerdirs(value)).toEqual(want);
  });

  it.for(['', ':', '/a:', ':/a', '/a::/b'])('rejects %j, which has an empty layer path', (value) => {
    expect(() => splitLowerdirs(value)).toThrow(UsageError);
  });
});
