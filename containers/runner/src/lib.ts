/**
 * The runner as a library (bundled to dist/runner-lib.mjs by scripts/build-runner.mjs) for Node
 * scripts that cannot import the TypeScript sources directly, e.g. bench/node/sandbox.bench.mjs.
 */
export { compiledSandbox } from '../../../src/protocol/index.ts';
export { runProcess } from './execute.ts';
export { runInvocation } from './invocation.ts';
// The signed API as the gateway calls it, for bench/node/container.bench.mjs.
export { importRunnerKey, signRunnerRequest } from '../../../src/protocol/index.ts';
