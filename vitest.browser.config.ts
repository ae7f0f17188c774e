import { defineConfig } from 'vitest/config';

/**
 * Browser tests of the dashboard (docs/dashboard.md "Tests"): Debian's /usr/bin/chromium driven
 * by playwright-core against `npm run dev` on port 8794 with a fresh local state, started by
 * the global setup. One file, in order: each step builds on the one before.
 */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    globalSetup: ['./test/browser/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
