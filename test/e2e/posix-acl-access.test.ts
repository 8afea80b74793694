// Access decided by POSIX ACLs through a worldfs view, as on a local filesystem: a named user's
// entry grants what the mode bits do not, and takes away what they would give; the mask limits
// it; chmod moves the mask. With the `acl` option the kernel transport asks for FUSE_POSIX_ACL,
// and the kernel checks ACLs itself; without it (the default: its cost is in fs/README.md) and on
// fuse-native (libfuse 2.9 cannot ask), default_permissions reads the mode bits only and ACL
// entries decide nothing, which the last row pins down. Each row runs on worldfs with aufs and
// overlay whiteouts and on a plain directory (ext4: the oracle).
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { file } from './support/tree.js';
import { runCases, sh, type Case, type View } from './support/views.js';

const KERNEL = process.env.WORLDFS_TRANSPORT === 'kernel';
const NOBODY = 65534;

/** `cat` of `rel` as nobody: its text, or 'EACCES'. */
function readAsNobody(v: View, rel: string): string {
  const r = sh('setpriv', [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', 'cat', v.p(rel)]);
  if (r.status === 0) return r.stdout;
  expect(r.stderr).toContain('Permission denied');
  return 'EACCES';
}

function setfacl(path: string, spec: string): void {
  const r = sh('setfacl', ['-m', spec, path]);
  expect(r.stderr).toBe('');
}

/** nobody must reach the view (and the oracle, which lives in base too). */
function reachable(v: View): void {
  chmodSync(v.base, 0o755);
  chmodSync(v.root, 0o755);
}

/** Whether ACL entries decide access in this view (fuse-native: they do not). */
const enforced = (v: View) => !v.variant.union || KERNEL;
/** The option that makes them decide (fuse-native refuses it). */
const ACL = KERNEL ? ['acl'] : [];

/** Set `spec` on lower file `name` in its layer itself (the oracle: in place), before the view looks at it. */
function aclInLayer(v: View, name: string, spec: string): void {
  setfacl(v.variant.union ? join(v.lowers[0]!, name) : v.p(name), spec);
  v.rebaseline();
}

const cases: Case[] = [
  {
    title: 'a lower file\'s ACL decides, read as it is in its layer: granted beyond the mode bits, and refused within them',
    layers: [{ granted: file('granted\n', { mode: 0o600 }), refused: file('refused\n', { mode: 0o644 }) }],
    options: ACL,
    run(v) {
      reachable(v);
      aclInLayer(v, 'granted', `u:${NOBODY}:r`);
      aclInLayer(v, 'refused', `u:${NOBODY}:-`);
      if (!enforced(v)) {
        expect([readAsNobody(v, 'granted'), readAsNobody(v, 'refused')]).toEqual(['EACCES', 'refused\n']);
        return;
      }
      expect([readAsNobody(v, 'granted'), readAsNobody(v, 'refused')]).toEqual(['granted\n', 'EACCES']);
    },
  },
  {
    title: 'an ACL set through the view decides at once, and a chmod that narrows the mask takes a grant back',
    layers: [{ f: file('data\n', { mode: 0o600 }) }],
    options: ACL,
    run(v) {
      reachable(v);
      expect(readAsNobody(v, 'f')).toBe('EACCES');
      setfacl(v.p('f'), `u:${NOBODY}:r`);
      if (!enforced(v)) return;
      expect(readAsNobody(v, 'f')).toBe('data\n');
      chmodSync(v.p('f'), 0o600); // the mask becomes ---: the named entry gives nothing now
      expect(readAsNobody(v, 'f')).toBe('EACCES');
      chmodSync(v.p('f'), 0o640);
      expect(readAsNobody(v, 'f')).toBe('data\n');
    },
  },
  {
    title: 'without the acl option the mode bits alone decide: a grant beyond them is refused, a refusal within them reads',
    layers: [{ granted: file('granted\n', { mode: 0o600 }), refused: file('refused\n', { mode: 0o644 }) }],
    only: ['aufs', 'overlay'],
    run(v) {
      reachable(v);
      aclInLayer(v, 'granted', `u:${NOBODY}:r`);
      aclInLayer(v, 'refused', `u:${NOBODY}:-`);
      expect([readAsNobody(v, 'granted'), readAsNobody(v, 'refused')]).toEqual(['EACCES', 'refused\n']);
    },
  },
];

runCases('access by POSIX ACLs', cases, { kernelOpens: true });
