import { defineConfig } from 'vitest/config';

// Node-side code: the pure libraries (src/lib, src/policy), the guards' pure checks, the CLI and the container runner.
export default defineConfig({
  test: {
    include: [
      'test/node/**/*.test.ts',
      'src/lib/**/*.test.ts',
      'src/policy/**/*.test.ts',
      'src/guards/**/*.test.ts',
      'containers/**/*.test.ts',
    ],
    // The image's tests need a Docker engine and the built image: vitest.image.config.ts.
    exclude: ['containers/runner/test/image/**', '**/node_modules/**'],
    environment: 'node',
    // Fails the run once, with the install command, when bubblewrap, curl, openssl or root is missing.
    globalSetup: ['test/node/system-requirements.ts'],
  },
});
