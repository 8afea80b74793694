// PAX extended-header records for what ustar cannot carry: nanosecond times and extended
// attributes. Pure. Xattrs are written as GNU tar and Go's archive/tar write them
// (`SCHILY.xattr.<name>=<value>`) when the value is UTF-8, and as libarchive writes binary ones
// (`LIBARCHIVE.xattr.<url-encoded name>=<base64>`), since tar-stream's PAX codec is UTF-8 only.

const SCHILY = 'SCHILY.xattr.';
const LIBARCHIVE = 'LIBARCHIVE.xattr.';

/** A time in nanoseconds since the epoch as a PAX decimal ("1733480000.123456789"). */
export function paxTime(ns: bigint): string {
  const neg = ns < 0n;
  const abs = neg ? -ns : ns;
  const s = `${abs / 1_000_000_000n}.${(abs % 1_000_000_000n).toString().padStart(9, '0')}`;
  return neg ? '-' + s : s;
}

/** A PAX decimal time back to nanoseconds; undefined when it is not one. */
export function parsePaxTime(text: string): bigint | undefined {
  const m = /^(-?)(\d+)(?:\.(\d{0,9})\d*)?$/.exec(text);
  if (!m) return undefined;
  const ns = BigInt(m[2]!) * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0') || '0');
  return m[1] ? -ns : ns;
}

function isUtf8(value: Buffer): boolean {
  return Buffer.from(value.toString('utf8'), 'utf8').equals(value) && !value.includes(0x0a);
}

/** PAX records for a set of xattrs (names sorted, so equal inputs give equal archives). */
export function xattrRecords(xattrs: ReadonlyMap<string, Buffer>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of [...xattrs.keys()].sort()) {
    const value = xattrs.get(name)!;
    if (isUtf8(value) && !name.includes('=')) out[SCHILY + name] = value.toString('utf8');
    else out[LIBARCHIVE + encodeURIComponent(name)] = value.toString('base64');
  }
  return out;
}

/**
 * The xattrs a set of PAX records carries. A SCHILY value that did not survive UTF-8 decoding
 * (a binary value another tool wrote raw) is reported in `lossy` rather than guessed at.
 */
export function xattrsFromRecords(pax: Readonly<Record<string, string>> | null | undefined): { xattrs: Map<string, Buffer>; lossy: string[] } {
  const xattrs = new Map<string, Buffer>();
  const lossy: string[] = [];
  if (!pax) return { xattrs, lossy };
  for (const [key, value] of Object.entries(pax)) {
    if (key.startsWith(LIBARCHIVE)) {
      xattrs.set(decodeURIComponent(key.slice(LIBARCHIVE.length)), Buffer.from(value, 'base64'));
    } else if (key.startsWith(SCHILY)) {
      const name = key.slice(SCHILY.length);
      if (value.includes('\uFFFD')) lossy.push(name);
      else if (!xattrs.has(name)) xattrs.set(name, Buffer.from(value, 'utf8'));
    }
  }
  return { xattrs, lossy };
}
