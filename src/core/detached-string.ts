// Strings that hold nothing else alive. V8 makes a substring of 13 or more characters (slice,
// split, substring) a view into its parent string, and a view kept as a long-lived map key keeps the
// whole parent with it: the top memo's entry names, sliced from layer-relative paths, held 2.9 MiB
// of paths for 35,000 names after a man-db run in a world (heap snapshot).

/** `s`, as a string of its own: a copy when V8 may have made it a view into a bigger string. */
export function detached(s: string): string {
  // UTF-16 both ways: lossless for any JS string (lone surrogates included); V8 stores the copy
  // one-byte when every character fits.
  return s.length < 13 ? s : Buffer.from(s, 'utf16le').toString('utf16le');
}
