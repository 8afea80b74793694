import { readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mountWorldfs, stackDirs, tempDir, unmountAll } from '../helpers/worldfs.js';

const FORMATS = ['aufs', 'overlay'] as const;

describe.each(FORMATS)('worldfs smoke (%s whiteouts)', (whiteout) => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(async () => {
    await unmountAll();
    tmp.cleanup();
  });

  it('shows lower files, writes only to the upper layer, and hides deleted lower files', async () => {
    const d = stackDirs(tmp.path, 2);
    writeFileSync(join(d.lowers[1]!, 'a'), 'from l1');
    writeFileSync(join(d.lowers[0]!, 'a'), 'from l0');
    writeFileSync(join(d.lowers[1]!, 'b'), 'b');
    const m = await mountWorldfs({ ...d, whiteout });
    expect(readFileSync(join(m.mnt, 'a'), 'utf8')).toBe('from l0');
    writeFileSync(join(m.mnt, 'a'), 'changed');
    expect(readFileSync(join(d.lowers[0]!, 'a'), 'utf8')).toBe('from l0');
    expect(readFileSync(join(d.upper, 'a'), 'utf8')).toBe('changed');
    const { unlinkSync } = await import('node:fs');
    unlinkSync(join(m.mnt, 'b'));
    expect(existsSync(join(m.mnt, 'b'))).toBe(false);
    expect(existsSync(join(d.lowers[1]!, 'b'))).toBe(true);
    expect(readdirSync(m.mnt).sort()).toEqual(['a']);
  });
});
