// How worldctl's text output shows a path (cli/render/path-text.ts): as it is, or quoted with
// C-style escapes when it holds a character that would make its line ambiguous.
import { describe, expect, it } from 'vitest';
import { pathText } from '../../../cli/render/path-text.js';

describe('pathText', () => {
  it('leaves ordinary paths as they are, spaces and non-ASCII letters included', () => {
    for (const p of ['/srv/mail.conf', '/a b/c', '/été/naïve', "/it's"]) expect(pathText(p)).toBe(p);
  });

  it('quotes a path holding a newline, a tab, another control character, a backslash or a double quote', () => {
    expect(pathText('/tmp/a\nb')).toBe('"/tmp/a\\nb"');
    expect(pathText('/tmp/a\tb')).toBe('"/tmp/a\\tb"');
    expect(pathText('/tmp/\u0001')).toBe('"/tmp/\\u0001"');
    expect(pathText('/tmp/a\\nb')).toBe('"/tmp/a\\\\nb"'); // a real backslash and n: told apart from a newline
    expect(pathText('/tmp/"q"')).toBe('"/tmp/\\"q\\""');
  });
});
