/**
 * Measurement helpers for benchmarks that run inside workerd. Results are printed as one
 * `BENCH {json}` line per group; scripts/bench.mjs collects them into bench-results/.
 * Figures are only compared as ratios against a baseline measured in the same run.
 */
export interface Measurement {
  name: string;
  iterations: number;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
}

/** workerd's clock ticks in whole milliseconds, so each sample is a batch this long. */
const MIN_BATCH_MS = 5;

/**
 * Runs fn sequentially for about `durationMs` after a warm-up. Because the clock is coarse,
 * ops are timed in batches of at least MIN_BATCH_MS; p50/p99 are percentiles of the
 * per-op mean of each batch (tail spikes shorter than a batch are averaged in).
 */
export async function measure(
  name: string,
  fn: () => unknown,
  options: { durationMs?: number; warmup?: number } = {},
): Promise<Measurement> {
  const { durationMs = 1500, warmup = 20 } = options;
  for (let i = 0; i < warmup; i++) await fn();
  let batch = 1;
  for (;;) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) await fn();
    if (performance.now() - t0 >= MIN_BATCH_MS || batch >= 1 << 20) break;
    batch *= 2;
  }
  const perOpMs: number[] = [];
  let iterations = 0;
  const start = performance.now();
  while (performance.now() - start < durationMs) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) await fn();
    perOpMs.push((performance.now() - t0) / batch);
    iterations += batch;
  }
  const elapsedMs = performance.now() - start;
  perOpMs.sort((a, b) => a - b);
  return {
    name,
    iterations,
    opsPerSec: Math.round((iterations / elapsedMs) * 1000),
    p50Us: Math.round(percentile(perOpMs, 0.5) * 1000),
    p99Us: Math.round(percentile(perOpMs, 0.99) * 1000),
  };
}

/** Prints a group of measurements with each one's throughput ratio to the baseline. */
export function report(group: string, baseline: Measurement, others: Measurement[], extra: Record<string, unknown> = {}): void {
  const rows = [baseline, ...others].map((m) => ({
    ...m,
    ratioToBaseline: Number((m.opsPerSec / Math.max(1, baseline.opsPerSec)).toFixed(3)),
  }));
  console.log(`BENCH ${JSON.stringify({ group, baseline: baseline.name, results: rows, ...extra })}`);
}
