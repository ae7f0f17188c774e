import { defineConfig } from 'vitest/config';

// The runner image (containers/runner/test/image/): needs a Docker engine and the built image,
// so it runs through `npm run test:image` (scripts/image/test.sh), which provides both.
export default defineConfig({
  test: {
    include: ['containers/runner/test/image/**/*.test.ts'],
    environment: 'node',
    testTimeout: 90_000,
    hookTimeout: 120_000,
  },
});
