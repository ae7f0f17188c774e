// The environment `npm run dev` (and the throw-away gateways of the node tests and benchmarks,
// scripts/local-gateway.mjs) start `wrangler dev` with.
//
// wrangler's local observability (X_LOCAL_OBSERVABILITY, on by default since wrangler 4.118:
// the Local Explorer's Observability tab) attaches a trace collector to every local Worker
// and writes every span of every invocation (each Durable Object call, each SQL statement)
// into a SQLite trace store in the same workerd process. Under signed Discord PINGs
// (docs/ratelimit.md "Cost and limits") the collector and its store took about a quarter of
// the local runtime's CPU, more than the gateway's own limiter decision; a bare Worker, with
// fewer spans, pays far less. It is a development aid with no production counterpart in the
// Worker's CPU, so it is off here unless asked for: `X_LOCAL_OBSERVABILITY=true npm run dev`.
// Console output reaches the terminal either way.
export function wranglerEnv(env) {
  return { ...env, X_LOCAL_OBSERVABILITY: env.X_LOCAL_OBSERVABILITY ?? 'false' };
}
