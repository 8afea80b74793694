// /etc/passwd as data (passwd(5)): NAME:PASSWORD:UID:GID:GECOS:HOME:SHELL, one account a line.
// Pure: parses text. Used by `worldctl shell` to start the account's own shell in a world.

export interface Account {
  readonly name: string;
  readonly uid: number;
  readonly home: string;
  /** Empty in the file means /bin/sh (passwd(5)). */
  readonly shell: string;
}

/** The first account with `uid` in passwd text, if any; malformed lines and comments are skipped. */
export function accountOf(passwd: string, uid: number): Account | undefined {
  for (const line of passwd.split('\n')) {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#') || !/^\d+$/.test(f[2]!)) continue;
    if (Number(f[2]) !== uid) continue;
    return { name: f[0]!, uid, home: f[5] || '/', shell: f[6]!.trim() || '/bin/sh' };
  }
  return undefined;
}
