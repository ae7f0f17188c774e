import { Hono } from 'hono';
import { recordAudit, type AuditInput } from '../audit';
import type { AppEnv, Env } from '../env';
import { PLATFORM_ADAPTERS } from './adapters';
import { hookHandler, type ConnectorLookup, type DeliverInbound } from './pipeline';

export {
  parseJsonBody,
  type ConnectorLookup,
  type ConnectorRecord,
  type DeliverInbound,
  type Outcome,
  type PlatformAdapter,
  type Verdict,
} from './pipeline';

export interface WebhookRouteOptions {
  lookup: ConnectorLookup;
  deliverInbound: DeliverInbound;
  /** Epoch milliseconds; injected by tests. */
  clock?: () => number;
  /** Defaults to the hash-chained audit log. */
  audit?: (env: Env, input: AuditInput, now: number) => Promise<unknown>;
}

/**
 * POST /hooks/{discord,slack,telegram}/:connectorId: the one pipeline of pipeline.ts
 * (look up, read, verify, parse, dedupe, deliver) with each platform's adapter.
 */
export function webhookRoutes(options: WebhookRouteOptions): Hono<AppEnv> {
  const deps = {
    lookup: options.lookup,
    deliverInbound: options.deliverInbound,
    clock: options.clock ?? Date.now,
    audit: options.audit ?? ((env: Env, input: AuditInput, now: number) => recordAudit(env, input, now)),
  };
  const hooks = new Hono<AppEnv>();
  for (const adapter of PLATFORM_ADAPTERS) hooks.post(`/hooks/${adapter.platform}/:connectorId`, hookHandler(adapter, deps));
  return hooks;
}
