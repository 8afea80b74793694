// World names: what a user may call a world. Pure. A name becomes a directory-free label shown in
// listings and typed on command lines, so it must be printable, unambiguous and never an option.

import { WorldError } from './world-error.js';

/** The longest name allowed, in code points (not UTF-16 units, not bytes). */
export const MAX_NAME_LENGTH = 64;

// Invisible or unencodable characters: whitespace (incl. NBSP, line/paragraph separators), controls
// (C0, DEL, C1), format characters (zero-width space, bidi overrides: names that look alike),
// lone surrogates (not UTF-8) and noncharacters (U+FFFE, U+FFFF: not XML).
const FORBIDDEN = /[\p{White_Space}\p{Cc}\p{Cf}\p{Cs}\p{Noncharacter_Code_Point}]/u;

const RULES = 'a name is 1 to 64 printable characters, without "/", whitespace or control characters, ' +
  'not starting with "-" or "."';

/**
 * Check a world name and return it normalised to NFC (so "é" typed either way is one name).
 * Throws WorldError('BAD_NAME') saying which rule failed, where, and what a valid name looks like.
 */
export function validateWorldName(raw: string): string {
  const name = raw.normalize('NFC');
  const shown = JSON.stringify(raw);
  const bad = (what: string): never => {
    throw new WorldError('BAD_NAME', `invalid world name ${shown}: ${what}; ${RULES}`, {
      hint: 'choose another name, e.g. "experiment-2"',
    });
  };
  if (name.length === 0) bad('it is empty');
  const chars = [...name];
  const nul = chars.indexOf('\0');
  if (nul >= 0) bad(`it contains a NUL character at position ${nul + 1}`);
  const slash = chars.indexOf('/');
  if (slash >= 0) bad(`it contains "/" at position ${slash + 1}`);
  const forbidden = chars.findIndex((c) => FORBIDDEN.test(c));
  if (forbidden >= 0) bad(`it contains ${describe(chars[forbidden]!)} at position ${forbidden + 1}`);
  if (name === '.' || name === '..') bad(`"${name}" means a directory, not a world`);
  if (name.startsWith('-')) bad('it starts with "-", so a command line would read it as an option');
  if (name.startsWith('.')) bad('it starts with "."');
  if (chars.length > MAX_NAME_LENGTH) bad(`it is ${chars.length} characters long, more than ${MAX_NAME_LENGTH}`);
  return name;
}

const NAMED: Readonly<Record<string, string>> = {
  ' ': 'a space', '\t': 'a tab', '\n': 'a newline', '\r': 'a carriage return', '\u00a0': 'a no-break space',
};

function describe(c: string): string {
  const code = `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
  const named = NAMED[c];
  if (named) return `${named} (${code})`;
  if (/\p{White_Space}/u.test(c)) return `whitespace (${code})`;
  if (/\p{Cc}/u.test(c)) return `a control character (${code})`;
  if (/\p{Cf}/u.test(c)) return `an invisible formatting character (${code})`;
  if (/\p{Cs}/u.test(c)) return `a lone surrogate (${code}), which is not valid Unicode`;
  return `a noncharacter (${code})`;
}
