// What a new object inherits from its directory's default ACL (src/core/posix-acl.ts), as the
// kernel's posix_acl_create computes it; the expected values are what ext4 gives (getfacl).
import { describe, expect, it } from 'vitest';
import { inherit } from '../../../../src/core/posix-acl.js';

const USER_OBJ = 0x01, USER = 0x02, GROUP_OBJ = 0x04, MASK = 0x10, OTHER = 0x20;

/** An ACL xattr from [tag, perm, id] entries. */
function aclOf(...entries: [number, number, number?][]): Buffer {
  const b = Buffer.alloc(4 + 8 * entries.length);
  b.writeUInt32LE(2, 0);
  entries.forEach(([tag, perm, id = 0xffffffff], i) => {
    b.writeUInt16LE(tag, 4 + 8 * i);
    b.writeUInt16LE(perm, 6 + 8 * i);
    b.writeUInt32LE(id, 8 + 8 * i);
  });
  return b;
}

describe('inherit (posix_acl_create)', () => {
  it('narrows the mask and the mode by the requested mode, and keeps the named entries (setfacl -d -m u:nobody:rwx)', () => {
    const def = aclOf([USER_OBJ, 7], [USER, 7, 65534], [GROUP_OBJ, 5], [MASK, 7], [OTHER, 5]);
    const got = inherit(def, 0o100666)!;
    expect(got.mode).toBe(0o100664);
    expect(got.access).toEqual(aclOf([USER_OBJ, 6], [USER, 7, 65534], [GROUP_OBJ, 5], [MASK, 6], [OTHER, 4]));
    const dir = inherit(def, 0o040777)!;
    expect(dir.mode).toBe(0o040775);
    expect(dir.access).toEqual(aclOf([USER_OBJ, 7], [USER, 7, 65534], [GROUP_OBJ, 5], [MASK, 7], [OTHER, 5]));
  });

  it('gives no access ACL for a default ACL the mode bits say whole, only the narrowed mode', () => {
    const got = inherit(aclOf([USER_OBJ, 7], [GROUP_OBJ, 5], [OTHER, 0]), 0o100777)!;
    expect(got).toEqual({ mode: 0o100750, access: undefined });
    expect(inherit(aclOf([USER_OBJ, 6], [GROUP_OBJ, 6], [OTHER, 6]), 0o4755)).toEqual({ mode: 0o4644, access: undefined });
  });

  it('refuses what the kernel would not have stored: another version, a torn entry, no group entry, an unknown tag', () => {
    const good = aclOf([USER_OBJ, 7], [GROUP_OBJ, 5], [OTHER, 5]);
    const v1 = Buffer.from(good);
    v1.writeUInt32LE(1, 0);
    expect(inherit(v1, 0o666)).toBeUndefined();
    expect(inherit(good.subarray(0, good.length - 1), 0o666)).toBeUndefined();
    expect(inherit(aclOf([USER_OBJ, 7], [OTHER, 5]), 0o666)).toBeUndefined();
    expect(inherit(aclOf([USER_OBJ, 7], [GROUP_OBJ, 5], [OTHER, 5], [0x40, 7]), 0o666)).toBeUndefined();
  });
});
