// Where a regular file's data is (src/core/metacopy.ts): its own branch, or, for a metadata-only
// copy, the file the layers below show. Over in-memory stacks (test/helpers/memory-layers.ts) whose
// metacopy marks are given per layer and path; every xattr question the probe is asked is counted.
import { describe, expect, it } from 'vitest';
import { isFsError } from '../../../../src/core/errors.js';
import { dataBranch, type MetacopyProbe } from '../../../../src/core/metacopy.js';
import { toViewPath } from '../../../../src/core/paths.js';
import { resolve } from '../../../../src/core/resolve.js';
import { WHITEOUT_FORMATS } from '../../../../src/core/whiteout/index.js';
import { buildStack, type LayerSpec } from '../../../helpers/memory-layers.js';

const format = WHITEOUT_FORMATS.get('aufs')!;

/** A stack of `specs` (top first) whose files at `marked` ("layer:rel") are metacopy; `asked` counts isMetacopy calls. */
function stack(specs: readonly LayerSpec[], marked: readonly string[]) {
  const layers = buildStack(format, specs);
  const asked: string[] = [];
  const probe: MetacopyProbe = Object.assign(Object.create(layers) as typeof layers, {
    isMetacopy: (layer: number, rel: string) => {
      asked.push(`${layer}:${rel}`);
      return marked.includes(`${layer}:${rel}`);
    },
  });
  const at = (path: string) => {
    const node = resolve(toViewPath(path), probe, format);
    const parent = resolve(toViewPath('/'), probe, format);
    if (node.kind !== 'found' || parent.kind !== 'found') throw new Error(`${path} not found`);
    return dataBranch(node.node, parent.node, probe, format);
  };
  return { at, asked };
}

describe('dataBranch', () => {
  it('gives a metadata-only copy the data of the file below it', () => {
    const s = stack([{ f: 'file' }, { f: 'file' }], ['0:f']);
    expect(s.at('/f')).toEqual({ layer: 1, rel: 'f' });
  });

  it('gives an ordinary file its own branch', () => {
    const s = stack([{ f: 'file' }, { f: 'file' }], []);
    expect(s.at('/f')).toEqual({ layer: 0, rel: 'f' });
  });

  it('takes a file of the lowest layer as its own data, without asking: nothing lies below it', () => {
    const s = stack([{}, { f: 'file' }], ['1:f']);
    expect(s.at('/f')).toEqual({ layer: 1, rel: 'f' });
    expect(s.asked).toEqual([]);
  });

  it('follows a chain of metadata-only copies down to the lowest layer, which it does not ask', () => {
    const s = stack([{ f: 'file' }, { f: 'file' }, { f: 'file' }], ['0:f', '1:f']);
    expect(s.at('/f')).toEqual({ layer: 2, rel: 'f' });
    expect(s.asked).toEqual(['0:f', '1:f']);
  });

  it('fails with EIO for a metadata-only copy with no file below it', () => {
    const s = stack([{ f: 'file' }, {}], ['0:f']);
    let err: unknown;
    try { s.at('/f'); } catch (e) { err = e; }
    expect(isFsError(err) && err.code).toBe('EIO');
  });
});
