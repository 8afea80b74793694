// Cutting host paths longer than PATH_MAX into walkable chunks (src/core/path-chunks.ts).
import { describe, expect, it } from 'vitest';
import { chunkPath, DIRECT_MAX, isDirect } from '../../../../src/core/path-chunks.js';

const name = (c: string, n = 200) => c.repeat(n);

describe('isDirect', () => {
  it('passes short paths and paths of exactly DIRECT_MAX bytes, and no longer one', () => {
    expect(isDirect('/a/b')).toBe(true);
    expect(isDirect('/' + 'a'.repeat(DIRECT_MAX - 1))).toBe(true);
    expect(isDirect('/' + 'a'.repeat(DIRECT_MAX))).toBe(false);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const e = 'é'; // 2 bytes
    expect(isDirect('/' + e.repeat(1999))).toBe(true); // 3,999 bytes
    expect(isDirect('/' + e.repeat(2000))).toBe(false); // 4,001 bytes
  });
});

describe('chunkPath', () => {
  it('keeps a short path in one absolute chunk and splits off the last name', () => {
    expect(chunkPath('/a/b/c')).toEqual({ dirs: ['/a/b'], name: 'c' });
    expect(chunkPath('/c')).toEqual({ dirs: ['/'], name: 'c' });
  });

  it('cuts only at slashes, each chunk within the limit, and joins back to the parent', () => {
    const parts = Array.from({ length: 45 }, (_, i) => String(i).padStart(3, '0') + name('x', 197));
    const path = '/top/' + parts.join('/') + '/file';
    const { dirs, name: last } = chunkPath(path);
    expect(last).toBe('file');
    expect(dirs.length).toBe(3);
    expect(dirs[0]!.startsWith('/top/')).toBe(true);
    for (const d of dirs) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(DIRECT_MAX);
    for (const d of dirs.slice(1)) expect(d.startsWith('/')).toBe(false);
    expect(dirs.join('/') + '/' + last).toBe(path);
  });

  it('fills chunks greedily: a chunk ends only where the next component would not fit', () => {
    const { dirs } = chunkPath('/aaaa/bbbb/cccc/dddd/e', 10);
    expect(dirs).toEqual(['/aaaa/bbbb', 'cccc/dddd']);
    expect(chunkPath('/aaaa/bbbbb/c', 10).dirs).toEqual(['/aaaa', 'bbbbb']);
  });

  it('measures multi-byte names in bytes', () => {
    const { dirs } = chunkPath('/éé/éé/x', 6); // 'éé' is 4 bytes
    expect(dirs).toEqual(['/éé', 'éé']);
  });

  it('refuses a relative path and a component longer than a chunk', () => {
    expect(() => chunkPath('a/b')).toThrow(/absolute/);
    expect(() => chunkPath('/' + name('a', 20) + '/b', 10)).toThrow(/cannot be walked/);
  });
});
