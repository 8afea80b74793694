// A path as part of one line of text: as it is, unless it holds what would make the line ambiguous
// (a newline or another control character; a backslash or a double quote, which the quoting itself
// uses). Such a path shows in double quotes with C-style escapes ("a\nb"), as `ls --quoting-style=c`
// shows names; `--json` output needs none of this.
const NEEDS_QUOTES = /[\u0000-\u001f\u007f\\"]/;

export function pathText(p: string): string {
  return NEEDS_QUOTES.test(p) ? JSON.stringify(p) : p;
}
