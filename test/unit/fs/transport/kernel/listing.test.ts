// Directory listings as READDIR serves them (fs/transport/kernel/listing.ts, node-listings.ts):
// cookies that depend on the name alone, so two listings of one directory agree on every position
// (a pass may resume from another listing), and the bounded per-node store of listings.
import { describe, expect, it } from 'vitest';
import { DOTS_ONLY, firstAfter, listingOf } from '../../../../../fs/transport/kernel/listing.js';
import { NodeListings } from '../../../../../fs/transport/kernel/node-listings.js';

const names = (n: number, prefix = 'f') => Array.from({ length: n }, (_, i) => `${prefix}${i}`);
const text = (l: { names: readonly Buffer[] }) => l.names.map((b) => b.toString());

describe('listingOf', () => {
  it('starts with . and .. (cookies 1 and 2), then every name once, cookies strictly increasing and below 2^31', () => {
    const l = listingOf(names(5000));
    expect(text(l).slice(0, 2)).toEqual(['.', '..']);
    expect([l.cookies[0], l.cookies[1]]).toEqual([1, 2]);
    expect(text(l).slice(2).sort()).toEqual(names(5000).sort());
    for (let i = 1; i < l.cookies.length; i++) expect(l.cookies[i]!).toBeGreaterThan(l.cookies[i - 1]!);
    expect(Math.max(...l.cookies)).toBeLessThan(2 ** 31);
    expect(text(DOTS_ONLY)).toEqual(['.', '..']);
  });

  it('gives a name the same cookie in any listing it is in, whatever else is there and in whatever order', () => {
    const a = listingOf(names(300));
    const b = listingOf([...names(300)].reverse().filter((_, i) => i % 3 !== 0).concat(names(50, 'new')));
    const cookieOf = (l: ReturnType<typeof listingOf>, n: string) => l.cookies[text(l).indexOf(n)];
    for (const n of text(b)) if (text(a).includes(n)) expect(cookieOf(b, n)).toBe(cookieOf(a, n));
  });

  it('resumes after an offset: every name after a cookie, none before, whichever listing the offset came from', () => {
    const before = listingOf(names(1000));
    const after = listingOf([...names(1000), ...names(100, 'late')]);
    const half = before.cookies[500]!; // a pass read up to here from the first listing...
    const seen = [...text(before).slice(0, 501), ...text(after).slice(firstAfter(after, half))]; // ...and the rest from the second
    const old = seen.filter((n) => !n.startsWith('late'));
    expect(old.sort()).toEqual(['.', '..', ...names(1000)].sort());
    expect(new Set(seen).size).toBe(seen.length);
    expect(firstAfter(before, 0)).toBe(0);
    expect(firstAfter(before, before.cookies.at(-1)!)).toBe(before.names.length);
  });
});

describe('NodeListings', () => {
  it('keeps the listing a pass took at offset 0 for later offsets, lists afresh at 0 and when nothing is kept, and forgets it at the end', () => {
    const store = new NodeListings();
    let lists = 0;
    const list = (n: string[]) => () => { lists++; return listingOf(n); };
    const first = store.at(7, 0, list(['a', 'b']));
    expect(store.at(7, first.cookies[2]!, list(['a', 'b', 'c']))).toBe(first);
    expect(lists).toBe(1);
    expect(text(store.at(7, 0, list(['a', 'b', 'c'])))).toHaveLength(5);
    store.done(7);
    expect(store.size).toBe(0);
    expect(text(store.at(7, 12345, list(['x'])))).toEqual(['.', '..', 'x']);
    expect(lists).toBe(3);
  });

  it('holds at most 256 listings and 256 Ki names, but always the newest', () => {
    const store = new NodeListings();
    for (let i = 0; i < 300; i++) store.at(i, 0, () => listingOf(['a']));
    expect(store.size).toBe(256);
    store.at(1000, 0, () => listingOf(names(300_000)));
    expect(store.size).toBe(1);
  });
});
