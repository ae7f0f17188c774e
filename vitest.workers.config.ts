import { cloudflareTest, readD1Migrations } from '@cloudflare/vitest-plugin';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { openApiContractService } from './test/node/openapi-client/contract.ts';

/**
 * Workers code runs inside workerd with the bindings wrangler.toml declares. Secrets are
 * fixed test values here; production reads them from `wrangler secret put`.
 * Shared with vitest.bench.config.ts, which runs the benchmarks the same way.
 */
export function workersConfig(
  test: { include: string[]; exclude?: string[]; fileParallelism?: boolean; testTimeout?: number; globalSetup?: string[] },
  worker: { main?: string; miniflare?: Record<string, unknown> } = {},
) {
  return defineConfig({
    plugins: [
      cloudflareTest(async () => ({
        wrangler: { configPath: './wrangler.toml' },
        // The `[ai]` binding has no local simulator: with remote bindings on, the pool would ask
        // for a Cloudflare login before any test runs. Tests hand the runtime an AI-shaped object.
        remoteBindings: false,
        ...(worker.main ? { main: worker.main } : {}),
        miniflare: {
          ...worker.miniflare,
          bindings: {
            TEST_MIGRATIONS: await readD1Migrations(fileURLToPath(new URL('./migrations', import.meta.url))),
            SETUP_TOKEN: 'test-setup-token-0123456789abcdef0123456789abcdef',
            VAULT_KEYS: 'k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
            ALLOWED_ORIGINS: 'https://console.example.com',
          },
        },
      })),
    ],
    // Argon2id costs ~0.3 s of CPU per login; tests that log in many times need room.
    test: { setupFiles: ['./test/workers/apply-migrations.ts'], testTimeout: 60_000, hookTimeout: 60_000, ...test },
  });
}

// main: the gateway with its Conversation objects' own turns using the test's scripted fetch
// (test/workers/main.ts); the benchmarks keep src/index.ts.
// OPENAPI_CONTRACT: a test-only binding into Node, where the OpenAPI validator and the client
// generator run (test/node/openapi-client/contract.ts); the Worker itself never has it.
// globalSetup: the scripted model server and the real local runner (bubblewrap) on loopback,
// which the end-to-end tests reach through the real fetch (test/loopback/workers-global-setup.ts).
export default workersConfig(
  {
    include: ['test/workers/**/*.test.ts', 'src/**/*.test.ts'],
    exclude: ['src/policy/**', 'src/lib/**', 'src/guards/**'],
    globalSetup: ['./test/loopback/workers-global-setup.ts'],
  },
  { main: './test/workers/main.ts', miniflare: { serviceBindings: { OPENAPI_CONTRACT: openApiContractService } } },
);
