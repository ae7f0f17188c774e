import { workersConfig } from './vitest.workers.config.ts';

// Benchmarks run inside workerd like the tests, one file at a time so they do not compete.
export default workersConfig({ include: ['bench/workers/**/*.bench.test.ts'], fileParallelism: false, testTimeout: 300_000 });
