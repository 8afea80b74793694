import { defineConfig } from 'vitest/config';

// e2e tests mount real FUSE filesystems: run files one at a time so two suites never fight over
// the same machine-wide resources, and give mounts room on a noisy 2-core machine.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000, // generous: a timeout here is a hang detector, never a speed check
    hookTimeout: 120_000,
    fileParallelism: false,
    reporters: ['default'],
  },
});
