import { Hono, type Context } from 'hono';
import { recordAudit, type AuditInput, type WebhookRejectReason } from '../audit';
import type { AppEnv, Env } from '../env';
import { ApiError, rawBodyLimit } from '../http';
import { markSeen } from './dedupe-object';
import { verifyDiscordSignature } from './discord-signature';
import { DiscordCallbackType, parseDiscordInteraction } from './discord-payload';
import type { InboundMessage, Platform } from './inbound';
import { verifySlackSignature } from './slack-signature';
import { parseSlackEvent } from './slack-payload';
import { verifyTelegramSecret } from './telegram-secret';
import { parseTelegramUpdate } from './telegram-payload';

/** What the connector table knows about one connector; secrets already decrypted from the vault. */
export interface ConnectorRecord {
  platform: Platform;
  agentId: string;
  workspaceId: string;
  secrets: {
    /** discord: application public key, 64 hex chars. */
    publicKey?: string;
    /** slack: signing secret. */
    signingSecret?: string;
    /** telegram: setWebhook secret_token. */
    secretToken?: string;
    botToken?: string;
  };
}

/** Finds a live connector; null for unknown and deleted ones alike. */
export type ConnectorLookup = (env: Env, platform: Platform, connectorId: string) => Promise<ConnectorRecord | null>;

/** The one hand-off to the agent runtime, run after the platform has its acknowledgement. */
export type DeliverInbound = (message: InboundMessage, env: Env) => Promise<void>;

export interface WebhookRouteOptions {
  lookup: ConnectorLookup;
  deliverInbound: DeliverInbound;
  /** Epoch milliseconds; injected by tests. */
  clock?: () => number;
  /** Defaults to the hash-chained audit log. */
  audit?: (env: Env, input: AuditInput, now: number) => Promise<unknown>;
}

/** Connector ids are opaque; anything else in the path is a 404 before any lookup. */
const CONNECTOR_ID = /^[A-Za-z0-9_-]{1,64}$/;

interface Accepted {
  platform: Platform;
  connectorId: string;
  record: ConnectorRecord;
}

/**
 * POST /hooks/{discord,slack,telegram}/:connectorId. Every handler follows one precedence
 * list (same numbers in docs/webhooks.md):
 *  1. rate limit per client IP — mounted in front of these routes by the Worker     else 429
 *  2. connector id well-formed, connector exists, is live and is of this platform else 404
 *  3. raw body at most 1 MiB, read once                                            else 413
 *  4. the platform's verification of the raw bytes (signature / secret header)     else 401
 *  5. body parses as the platform's payload                                        else 400
 *  6. acknowledge at once; de-duplicate and hand off in the background (waitUntil)
 *  7. anything else is refused: no path reaches 6 without passing 2–5.
 */
export function webhookRoutes(options: WebhookRouteOptions): Hono<AppEnv> {
  const clock = options.clock ?? Date.now;
  const audit = options.audit ?? ((env: Env, input: AuditInput, now: number) => recordAudit(env, input, now));
  const hooks = new Hono<AppEnv>();

  function inBackground(c: Context<AppEnv>, label: string, work: () => Promise<unknown>): void {
    c.executionCtx.waitUntil(
      work().catch((error: unknown) => {
        console.error(JSON.stringify({ level: 'error', event: label, requestId: c.get('requestId'), error: error instanceof Error ? error.name : 'unknown' }));
      }),
    );
  }

  // 2
  async function connectorFor(c: Context<AppEnv>, platform: Platform): Promise<Accepted> {
    const connectorId = c.req.param('connectorId') ?? '';
    if (!CONNECTOR_ID.test(connectorId)) throw new ApiError('NOT_FOUND');
    const record = await options.lookup(c.env, platform, connectorId);
    // Unknown, deleted and other-platform connectors all get the one generic 404.
    if (!record || record.platform !== platform) throw new ApiError('NOT_FOUND');
    return { platform, connectorId, record };
  }

  // 3 (the byte cap itself is the rawBodyLimit middleware on each route)
  async function readRawBody(c: Context<AppEnv>): Promise<Uint8Array> {
    return new Uint8Array(await c.req.arrayBuffer());
  }

  /** 4 and 5 end here: audit the internal reason, answer with the generic code. */
  function reject(c: Context<AppEnv>, accepted: Accepted, reason: WebhookRejectReason): never {
    const now = clock();
    inBackground(c, 'webhook.audit.failed', () =>
      audit(
        c.env,
        {
          workspaceId: accepted.record.workspaceId,
          kind: 'webhook.rejected',
          actor: `ip:${c.get('clientIp') ?? 'unknown'}`,
          data: { platform: accepted.platform, connectorId: accepted.connectorId, reason },
        },
        now,
      ),
    );
    // The reason stays in the audit log; the client learns only the generic code.
    throw new ApiError(reason === 'malformed-payload' ? 'VALIDATION_ERROR' : 'UNAUTHENTICATED');
  }

  // 5
  function parseJson(c: Context<AppEnv>, accepted: Accepted, raw: Uint8Array): unknown {
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(raw));
    } catch {
      return reject(c, accepted, 'malformed-payload');
    }
  }

  // 6
  function dedupeAndDeliver(c: Context<AppEnv>, accepted: Accepted, eventKey: string, message: InboundMessage | null, retryNum: number | null) {
    const now = clock();
    inBackground(c, 'webhook.handoff.failed', async () => {
      const verdict = await markSeen(c.env, accepted.platform, accepted.connectorId, eventKey, now);
      if (verdict !== 'first') {
        await audit(
          c.env,
          {
            workspaceId: accepted.record.workspaceId,
            kind: 'webhook.duplicate',
            actor: 'system',
            data: { platform: accepted.platform, connectorId: accepted.connectorId, eventKey, retryNum },
          },
          now,
        );
        return;
      }
      if (message) await options.deliverInbound(message, c.env);
    });
  }

  hooks.post('/hooks/discord/:connectorId', rawBodyLimit(), async (c) => {
    const accepted = await connectorFor(c, 'discord');
    const raw = await readRawBody(c);
    // 4
    const verdict = await verifyDiscordSignature({
      publicKeyHex: accepted.record.secrets.publicKey ?? '',
      signatureHex: c.req.header('X-Signature-Ed25519'),
      timestamp: c.req.header('X-Signature-Timestamp'),
      rawBody: raw,
      now: clock(),
    });
    if (!verdict.ok) reject(c, accepted, verdict.reason);
    const parsed = parseDiscordInteraction(parseJson(c, accepted, raw), { connectorId: accepted.connectorId, agentId: accepted.record.agentId });
    switch (parsed.kind) {
      case 'invalid':
        return reject(c, accepted, 'malformed-payload');
      case 'ping':
        return c.json({ type: DiscordCallbackType.PONG });
      case 'autocomplete':
        return c.json({ type: DiscordCallbackType.AUTOCOMPLETE_RESULT, data: { choices: [] } });
      case 'interaction':
        dedupeAndDeliver(c, accepted, parsed.eventKey, parsed.message, null);
        return c.json({ type: DiscordCallbackType.DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE });
    }
  });

  hooks.post('/hooks/slack/:connectorId', rawBodyLimit(), async (c) => {
    const accepted = await connectorFor(c, 'slack');
    const raw = await readRawBody(c);
    // 4
    const verdict = await verifySlackSignature({
      signingSecret: accepted.record.secrets.signingSecret ?? '',
      signatureHeader: c.req.header('X-Slack-Signature'),
      timestampHeader: c.req.header('X-Slack-Request-Timestamp'),
      rawBody: raw,
      now: clock(),
    });
    if (!verdict.ok) reject(c, accepted, verdict.reason);
    const parsed = parseSlackEvent(parseJson(c, accepted, raw), { connectorId: accepted.connectorId, agentId: accepted.record.agentId });
    switch (parsed.kind) {
      case 'invalid':
        return reject(c, accepted, 'malformed-payload');
      case 'challenge':
        return c.json({ challenge: parsed.challenge });
      case 'ignored':
        return c.body(null, 200);
      case 'event': {
        const retry = c.req.header('X-Slack-Retry-Num');
        const retryNum = retry !== undefined && /^[0-9]{1,3}$/.test(retry) ? Number(retry) : null;
        dedupeAndDeliver(c, accepted, parsed.eventKey, parsed.message, retryNum);
        return c.body(null, 200);
      }
    }
  });

  hooks.post('/hooks/telegram/:connectorId', rawBodyLimit(), async (c) => {
    const accepted = await connectorFor(c, 'telegram');
    const raw = await readRawBody(c);
    // 4
    const verdict = await verifyTelegramSecret(accepted.record.secrets.secretToken, c.req.header('X-Telegram-Bot-Api-Secret-Token'));
    if (!verdict.ok) reject(c, accepted, verdict.reason);
    const parsed = parseTelegramUpdate(parseJson(c, accepted, raw), { connectorId: accepted.connectorId, agentId: accepted.record.agentId });
    if (parsed.kind === 'invalid') return reject(c, accepted, 'malformed-payload');
    dedupeAndDeliver(c, accepted, parsed.eventKey, parsed.message, null);
    return c.body(null, 200);
  });

  return hooks;
}
