// POSIX ACLs as the kernel stores them in the system.posix_acl_access / _default xattrs, and what a
// new object inherits from its directory's default ACL (the kernel's posix_acl_create). Where the
// host filesystem makes the object in its real directory, the host does this itself; the union
// needs it only for an object it builds in the work directory and then renames into place (over a
// whiteout: src/host/union.ts, inheritFromParent). Pure: Buffers in, Buffers out.

export const ACL_ACCESS = 'system.posix_acl_access';
export const ACL_DEFAULT = 'system.posix_acl_default';

const VERSION = 2;
const HEADER = 4;
const ENTRY = 8;
const enum Tag { UserObj = 0x01, User = 0x02, GroupObj = 0x04, Group = 0x08, Mask = 0x10, Other = 0x20 }

interface AclEntry { tag: number; perm: number; readonly id: number }

function parse(xattr: Uint8Array): AclEntry[] | undefined {
  const b = Buffer.from(xattr.buffer, xattr.byteOffset, xattr.byteLength);
  if (b.length < HEADER || (b.length - HEADER) % ENTRY !== 0 || b.readUInt32LE(0) !== VERSION) return undefined;
  const out: AclEntry[] = [];
  for (let at = HEADER; at < b.length; at += ENTRY) out.push({ tag: b.readUInt16LE(at), perm: b.readUInt16LE(at + 2), id: b.readUInt32LE(at + 4) });
  return out;
}

function encode(entries: readonly AclEntry[]): Buffer {
  const b = Buffer.alloc(HEADER + ENTRY * entries.length);
  b.writeUInt32LE(VERSION, 0);
  entries.forEach((e, i) => {
    b.writeUInt16LE(e.tag, HEADER + ENTRY * i);
    b.writeUInt16LE(e.perm, HEADER + ENTRY * i + 2);
    b.writeUInt32LE(e.id, HEADER + ENTRY * i + 4);
  });
  return b;
}

/** What an object made with `mode` in a directory whose default ACL is `defaultAcl` gets. */
export interface Inherited {
  /** Its mode: `mode`'s permission bits narrowed by the ACL (file type and setuid/setgid/sticky kept). */
  readonly mode: number;
  /** Its access ACL, when the permission bits cannot say it all (named users or groups, a mask). */
  readonly access: Buffer | undefined;
}

/**
 * The kernel's posix_acl_create for a new object made with `mode` under `defaultAcl` (no umask:
 * a default ACL replaces it). Undefined when `defaultAcl` is not one the kernel would have stored.
 * A new directory also takes `defaultAcl` as its own default ACL (the caller sets it).
 */
export function inherit(defaultAcl: Uint8Array, mode: number): Inherited | undefined {
  const acl = parse(defaultAcl);
  if (!acl) return undefined;
  let bits = mode & 0o777;
  let groupObj: AclEntry | undefined;
  let mask: AclEntry | undefined;
  let extended = false;
  for (const e of acl) {
    switch (e.tag) {
      case Tag.UserObj:
        e.perm &= (bits >> 6) & 7;
        bits &= (e.perm << 6) | 0o077;
        break;
      case Tag.User:
      case Tag.Group:
        extended = true;
        break;
      case Tag.GroupObj:
        groupObj = e;
        break;
      case Tag.Other:
        e.perm &= bits & 7;
        bits &= e.perm | 0o770;
        break;
      case Tag.Mask:
        mask = e;
        extended = true;
        break;
      default:
        return undefined;
    }
  }
  const group = mask ?? groupObj;
  if (!group) return undefined;
  group.perm &= (bits >> 3) & 7;
  bits &= (group.perm << 3) | 0o707;
  return { mode: (mode & ~0o777) | bits, access: extended ? encode(acl) : undefined };
}
