// The machine table's wake-up settings (bench/machine.ts): read from the kernel's module
// parameters where it exposes them, over a stand-in /sys/module.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { describeWakeups } from '../../../bench/machine.js';

let sys: string;
beforeEach(() => { sys = mkdtempSync(join(tmpdir(), 'worldos-sysmodule-')); });
afterEach(() => rmSync(sys, { recursive: true, force: true }));

const param = (path: string, value: string) => {
  mkdirSync(join(sys, path, '..'), { recursive: true });
  writeFileSync(join(sys, path), value + '\n');
};

describe('describeWakeups', () => {
  it('names each setting the kernel exposes, with its value', () => {
    param('fuse/parameters/wake_here', 'N');
    param('haltpoll/parameters/guest_halt_poll_ns', '0');
    expect(describeWakeups(sys)).toBe('fuse wake_here=N, haltpoll guest_halt_poll_ns=0');
  });

  it('leaves out what is not there, and says so when nothing is', () => {
    param('fuse/parameters/wake_here', 'Y');
    expect(describeWakeups(sys)).toBe('fuse wake_here=Y');
    rmSync(join(sys, 'fuse'), { recursive: true });
    expect(describeWakeups(sys)).toBe('not exposed');
  });
});
