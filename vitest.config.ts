import { defineConfig } from 'vitest/config';

// e2e tests mount real FUSE filesystems: run files one at a time so two suites never fight over
// the same machine-wide resources, and give mounts room on a noisy 2-core machine.
// Three projects:
//   native  every test but the world suites, worldfs on fuse-native (WORLDFS_TRANSPORT=native
//           reaches every bin/worldfs the tests start, directly or through worldctl);
//   kernel  every worldfs e2e test again on the kernel-protocol transport, plus its own kernel-*;
//   worlds  the world-management suites (worlds-*, issue 4), once: they take about as long as all
//           the worldfs suites together. Their transport is the default (auto: kernel as root;
//           the rootless suite's user gets fuse-native, its fallback) unless WORLDFS_TRANSPORT is
//           set: `WORLDFS_TRANSPORT=native npx vitest run --project worlds` runs them on fuse-native.
// test/global-leaks.ts fails the run if it left a mount, a cgroup or a daemon behind.
const WORLDS = 'test/e2e/worlds-*.test.ts';

export default defineConfig({
  test: {
    testTimeout: 300_000, // generous: a timeout here is a hang detector, never a speed check
    hookTimeout: 120_000,
    fileParallelism: false,
    reporters: ['default'],
    globalSetup: ['test/global-leaks.ts'],
    projects: [
      {
        extends: true,
        test: { name: 'native', include: ['test/**/*.test.ts'], exclude: ['test/e2e/kernel-*.test.ts', WORLDS], env: { WORLDFS_TRANSPORT: 'native' } },
      },
      {
        extends: true,
        test: { name: 'kernel', include: ['test/e2e/**/*.test.ts'], exclude: [WORLDS], env: { WORLDFS_TRANSPORT: 'kernel' } },
      },
      {
        extends: true,
        test: { name: 'worlds', include: [WORLDS], env: { WORLDFS_TRANSPORT: process.env.WORLDFS_TRANSPORT ?? 'auto' } },
      },
    ],
  },
});
