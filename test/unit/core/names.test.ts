import { describe, expect, it } from 'vitest';
import { MAX_NAME_LENGTH, validateWorldName } from '../../../src/core/names.js';
import { WorldError } from '../../../src/core/world-error.js';

function rejection(raw: string): WorldError {
  try {
    validateWorldName(raw);
  } catch (e) {
    expect(e).toBeInstanceOf(WorldError);
    return e as WorldError;
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

describe('validateWorldName', () => {
  it.each([
    ['an empty name', '', /it is empty/],
    ['a name with a slash', 'a/b', /contains "\/" at position 2/],
    ['a name with a NUL', 'a\0b', /NUL character at position 2/],
    ['a name with a space', 'my world', /a space \(U\+0020\) at position 3/],
    ['a name with a tab', 'a\tb', /a tab \(U\+0009\)/],
    ['a name with a newline', 'a\nb', /a newline \(U\+000A\)/],
    ['a name with a carriage return', 'ab\r', /a carriage return \(U\+000D\) at position 3/],
    ['a name with a no-break space', 'a\u00a0b', /no-break space \(U\+00A0\)/],
    ['a name with a line separator', 'a\u2028b', /whitespace \(U\+2028\)/],
    ['a name with an ideographic space', 'a\u3000b', /whitespace \(U\+3000\)/],
    ['a name with DEL', 'a\x7fb', /control character \(U\+007F\)/],
    ['a name with a C1 control', 'a\u0085b', /U\+0085/],
    ['a name with an escape character', '\x1b[31mred', /control character \(U\+001B\) at position 1/],
    ['a name with a zero-width space', 'a\u200bb', /invisible formatting character \(U\+200B\)/],
    ['a name with a right-to-left override', 'abc\u202Etxt', /invisible formatting character \(U\+202E\) at position 4/],
    ['a name with a lone surrogate', 'a\ud800b', /lone surrogate \(U\+D800\)/],
    ['a name with a noncharacter', 'a\uffffb', /noncharacter \(U\+FFFF\)/],
    ['"."', '.', /"\." means a directory/],
    ['".."', '..', /"\.\." means a directory/],
    ['a name starting with "-"', '-rf', /starts with "-", so a command line would read it as an option/],
    ['a name starting with "."', '.hidden', /starts with "\."/],
    ['a name of 65 characters', 'a'.repeat(65), /65 characters long, more than 64/],
    ['a name of 65 emoji', '😀'.repeat(65), /65 characters long/],
  ])('rejects %s with BAD_NAME and says which rule failed', (_what, raw, message) => {
    const e = rejection(raw);
    expect(e.code).toBe('BAD_NAME');
    expect(e.message).toMatch(message);
    expect(e.message).toContain(JSON.stringify(raw));
    expect(e.message).toMatch(/a name is 1 to 64 printable characters/);
    expect(e.hint).toBeDefined();
  });

  it.each([
    ['plain ASCII', 'experiment-2'],
    ['digits with leading zeros', '007'],
    ['a dot inside', 'v1.2'],
    ['a trailing dot', 'v1.'],
    ['a dash inside and at the end', 'a-b-'],
    ['Latin letters with accents', 'café'],
    ['Greek', 'κόσμος'],
    ['Cyrillic', 'мир'],
    ['CJK', '世界'],
    ['Arabic', 'عالم'],
    ['an emoji', 'world😀'],
    ['XML-special characters', `a&b<c>"d'`],
    ['a backslash', 'a\\b'],
    ['a colon', 'a:b'],
    ['exactly 64 ASCII characters', 'a'.repeat(64)],
    ['exactly 64 emoji (128 UTF-16 units)', '😀'.repeat(64)],
  ])('accepts %s unchanged', (_what, raw) => {
    expect(validateWorldName(raw)).toBe(raw);
  });

  it('returns the NFC form, so a decomposed name equals its composed spelling', () => {
    const decomposed = 'cafe\u0301';
    expect(validateWorldName(decomposed)).toBe('caf\u00e9');
    expect(validateWorldName(decomposed)).toBe(validateWorldName('café'));
  });

  it('counts the length in code points of the NFC form', () => {
    const decomposed = 'e\u0301'.repeat(MAX_NAME_LENGTH); // 128 code points before NFC, 64 after
    expect([...validateWorldName(decomposed)]).toHaveLength(MAX_NAME_LENGTH);
  });
});
