// Unmounting a FUSE mount without Debian's fuse package: `umount` as root, otherwise a fusermount
// (Debian's fusermount3/fusermount, or the one fuse-shared-library-linux bundles).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

function fusermounts(): string[] {
  const out = ['fusermount3', 'fusermount'];
  try {
    const require = createRequire(import.meta.url);
    const bundled = join(dirname(require.resolve('fuse-shared-library-linux/package.json')), 'libfuse', 'bin', 'fusermount');
    if (existsSync(bundled)) out.push(bundled);
  } catch { /* not installed */ }
  return out;
}

/** Unmount `mountpoint`; `lazy` detaches it even while busy. Rejects with every attempt's error. */
export async function unmount(mountpoint: string, lazy = false): Promise<void> {
  const errors: string[] = [];
  const attempts: [string, string[]][] = process.getuid?.() === 0
    ? [['umount', lazy ? ['-l', mountpoint] : [mountpoint]]]
    : [];
  for (const fm of fusermounts()) attempts.push([fm, lazy ? ['-u', '-z', mountpoint] : ['-u', mountpoint]]);
  for (const [cmd, args] of attempts) {
    try {
      await run(cmd, args);
      return;
    } catch (e) {
      errors.push(`${cmd}: ${String((e as { stderr?: string }).stderr ?? (e as Error).message).trim()}`);
    }
  }
  throw new Error(`could not unmount ${mountpoint}:\n  ${errors.join('\n  ')}`);
}
