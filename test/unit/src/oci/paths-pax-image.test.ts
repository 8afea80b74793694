// The small pure pieces of OCI transfer: entry paths, symlink escapes, PAX times and xattrs,
// OCI whiteout names, skopeo references and image JSON read back.
import { describe, expect, it } from 'vitest';
import { entryRel, symlinkEscapes } from '../../../../src/oci/entry-path.js';
import { imageConfig, imageManifest, layersOf, MEDIA, pickManifest } from '../../../../src/oci/image-json.js';
import { paxTime, parsePaxTime, xattrRecords, xattrsFromRecords } from '../../../../src/oci/pax.js';
import { repoNameOf, tagOf, transportRef } from '../../../../src/oci/skopeo.js';
import { devMajor, devMinor } from '../../../../src/oci/tar-entry.js';
import { classifyOciName } from '../../../../src/oci/whiteout-map.js';

describe('entry paths', () => {
  it.each([['./a//b/', 'a/b'], ['./', ''], ['a/./b', 'a/b']])('%s is %s', (raw, rel) => {
    expect(entryRel(raw)).toEqual({ rel });
  });
  it.each(['/a', 'a/../b', '..', 'a\0b', 'x'.repeat(256)])('refuses %s', (raw) => {
    expect('problem' in entryRel(raw)).toBe(true);
  });
  it.each([
    ['l', '../x', true], ['a/l', '../x', false], ['a/l', '../../x', true], ['a/l', 'b/../../x', false],
    ['a/l', 'b/../../../x', true], ['l', '/abs', false], ['a/b/l', './../../y', false],
  ])('symlink %s -> %s escapes: %s', (rel, target, escapes) => {
    expect(symlinkEscapes(rel, target)).toBe(escapes);
  });
});

describe('PAX records', () => {
  it('round-trips nanosecond times', () => {
    for (const ns of [0n, 1n, 1733480000123456789n, 999_999_999n]) expect(parsePaxTime(paxTime(ns))).toBe(ns);
    expect(parsePaxTime('12.5')).toBe(12_500_000_000n);
    expect(parsePaxTime('abc')).toBeUndefined();
  });
  it('round-trips text and binary xattr values exactly', () => {
    const xs = new Map([['user.k', Buffer.from('hello')], ['security.capability', Buffer.from([1, 0, 0, 2, 0xff, 0xfe, 0x80])]]);
    const recs = xattrRecords(xs);
    expect(recs['SCHILY.xattr.user.k']).toBe('hello');
    expect(Object.keys(recs).some((k) => k.startsWith('LIBARCHIVE.xattr.'))).toBe(true);
    const back = xattrsFromRecords(recs);
    expect(back.lossy).toEqual([]);
    expect([...back.xattrs.entries()].sort()).toEqual([...xs.entries()].sort());
  });
  it('reports a SCHILY value that lost bytes in UTF-8 decoding', () => {
    expect(xattrsFromRecords({ 'SCHILY.xattr.security.capability': '\u0001\uFFFD' }).lossy).toEqual(['security.capability']);
  });
});

describe('OCI names, devices, references', () => {
  it('classifies whiteout names', () => {
    expect(classifyOciName('.wh.foo')).toEqual({ kind: 'whiteout', hides: 'foo' });
    expect(classifyOciName('.wh..wh..opq')).toEqual({ kind: 'opaque' });
    expect(classifyOciName('.wh..wh.plnk')).toEqual({ kind: 'reserved' });
    expect(classifyOciName('.wh.')).toEqual({ kind: 'reserved' });
    expect(classifyOciName('wh.foo')).toEqual({ kind: 'entry' });
  });
  it('splits device numbers as glibc does', () => {
    expect([devMajor(0x0103), devMinor(0x0103)]).toEqual([1, 3]);
    const makedev = (ma: number, mi: number) => ((ma & 0xfff) << 8) | (mi & 0xff) | ((mi & ~0xff) << 12);
    expect([devMajor(makedev(259, 5)), devMinor(makedev(259, 5))]).toEqual([259, 5]);
    expect([devMajor(makedev(8, 300)), devMinor(makedev(8, 300))]).toEqual([8, 300]);
  });
  it('reads registry references', () => {
    expect(transportRef('127.0.0.1:5000/w/app:v1')).toBe('docker://127.0.0.1:5000/w/app:v1');
    expect(transportRef('localhost:5000/app')).toBe('docker://localhost:5000/app');
    expect(transportRef('oci:/tmp/x:t')).toBe('oci:/tmp/x:t');
    expect(tagOf('127.0.0.1:5000/w/app:v1')).toBe('v1');
    expect(tagOf('127.0.0.1:5000/w/app')).toBe('latest');
    expect(repoNameOf('docker://127.0.0.1:5000/w/app:v1')).toBe('app');
  });
});

describe('image JSON', () => {
  const layers = [{ digest: 'sha256:' + 'a'.repeat(64), size: 10, world: 'Parent' }, { digest: 'sha256:' + 'b'.repeat(64), size: 20, world: 'Child' }];
  it('reads back the layers, bottom first, with their worlds', () => {
    const config = imageConfig(layers, '1970-01-01T00:00:00.000Z', 'x64');
    const manifest = imageManifest({ mediaType: MEDIA.config, digest: 'sha256:' + 'c'.repeat(64), size: 1 }, layers);
    expect(layersOf(manifest, config)).toEqual([
      { digest: layers[0]!.digest, compression: 'none', diffId: layers[0]!.digest, world: 'Parent' },
      { digest: layers[1]!.digest, compression: 'none', diffId: layers[1]!.digest, world: 'Child' },
    ]);
  });
  it('refuses zstd layers and mismatched configs with a clear message', () => {
    const config = imageConfig(layers, 'x', 'x64');
    const m = imageManifest({ mediaType: MEDIA.config, digest: 'sha256:' + 'c'.repeat(64), size: 1 }, layers) as { layers: { mediaType: string }[] };
    m.layers[0]!.mediaType = MEDIA.layerZstd;
    expect(() => layersOf(m, config)).toThrow(/only tar and tar\+gzip/);
    expect(() => layersOf(imageManifest({ mediaType: MEDIA.config, digest: 'sha256:' + 'c'.repeat(64), size: 1 }, layers), { rootfs: { diff_ids: [] } })).toThrow(/0 diff_ids for 2 layers/);
  });
  it('picks the tagged manifest', () => {
    const d = (x: string, tag: string) => ({ mediaType: MEDIA.manifest, digest: 'sha256:' + x.repeat(64), size: 1, annotations: { 'org.opencontainers.image.ref.name': tag } });
    expect(pickManifest({ manifests: [d('a', 'v1'), d('b', 'v2')] }, 'v2').digest).toBe('sha256:' + 'b'.repeat(64));
    expect(() => pickManifest({ manifests: [d('a', 'v1'), d('b', 'v2')] }, 'v3')).toThrow(/none is tagged/);
  });
});
