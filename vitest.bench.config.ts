import { workersConfig } from './vitest.workers.config.ts';

// Benchmarks run inside workerd like the tests, one file at a time so they do not compete.
// The bench Worker is the gateway plus comparison-only bindings (bench/workers/bench-main.ts):
// the Workers rate-limiting binding as miniflare implements it, and hono-rate-limiter's
// Durable Object store.
export default workersConfig(
  { include: ['bench/workers/**/*.bench.test.ts'], fileParallelism: false, testTimeout: 300_000 },
  {
    main: './bench/workers/bench-main.ts',
    miniflare: {
      ratelimits: { CF_RATE_LIMIT: { namespace_id: '1001', simple: { limit: 60, period: 60 } } },
      durableObjects: { HRL_STORE: { className: 'HonoRateLimiterObject', useSQLite: true } },
    },
  },
);
