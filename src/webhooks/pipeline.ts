import type { Context } from 'hono';
import type { AuditInput, WebhookRejectReason } from '../audit';
import type { AppEnv, Env } from '../env';
import { ApiError, rawBodyLimit } from '../http';
import { markSeen } from './dedupe-object';
import type { InboundMessage, InboundTarget, Platform } from './inbound';

/** What the connector table knows about one connector; the verification secret already opened from the vault. */
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
    /** Only when the lookup already holds it in memory (tests); the real lookup opens it on demand. */
    botToken?: string;
  };
  /**
   * Whether the agent had a model (a runtime) when the record was read, so the hand-off needs
   * no D1 read of the agent; absent = not known (the delivery reads the agent).
   */
  agentHasModel?: boolean;
  /**
   * Opens the bot token from the vault, for the reply path only: an unverified request must
   * not make the gateway decrypt more than the verification secret. Absent or null = none.
   */
  openBotToken?: () => Promise<string | null>;
}

/** Finds a live connector of this platform, its verification secret opened; null for unknown and deleted ones alike. */
export type ConnectorLookup = (env: Env, platform: Platform, connectorId: string) => Promise<ConnectorRecord | null>;

/**
 * The one hand-off to the agent runtime, run after the platform has its acknowledgement.
 * It gets the connector record the request was verified against, so nothing is looked up twice.
 */
export type DeliverInbound = (message: InboundMessage, env: Env, connector: ConnectorRecord) => Promise<void>;

export type Verdict = { ok: true } | { ok: false; reason: WebhookRejectReason };

/** What a platform's payload asks for once verified and parsed. */
export type Outcome =
  | { kind: 'invalid' }
  /** Verified and well-formed, but asking for something refused (a Slack response_url off hooks.slack.com): 400, audited. */
  | { kind: 'refused'; reason: WebhookRejectReason }
  /** Answered at once; nothing is de-duplicated or handed off (Discord PING, Slack url_verification). */
  | { kind: 'answer'; respond: (c: Context<AppEnv>) => Response }
  /** Acknowledged, then de-duplicated and (when `message` is set) handed off in the background. */
  | { kind: 'event'; eventKey: string; message: InboundMessage | null; retryNum: number | null; respond: (c: Context<AppEnv>) => Response };

/** The small part that differs per platform: how to verify the raw bytes and how to read them. */
export interface PlatformAdapter {
  platform: Platform;
  verify(input: { record: ConnectorRecord; raw: Uint8Array; header: (name: string) => string | undefined; now: number }): Promise<Verdict>;
  /**
   * Reads the verified body (already decoded as UTF-8; `parseJsonBody` for JSON platforms).
   * `now` (epoch ms) stamps short-lived reply handles (Discord interaction, Slack response_url).
   */
  parse(body: string, input: { target: InboundTarget; header: (name: string) => string | undefined; now: number }): Outcome;
}

export interface PipelineDeps {
  lookup: ConnectorLookup;
  deliverInbound: DeliverInbound;
  clock: () => number;
  audit: (env: Env, input: AuditInput, now: number) => Promise<unknown>;
}

/** JSON.parse for the JSON platforms; `undefined` (never a valid payload) when the text is not JSON. */
export function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

/** Reasons found after the signature held: the client gets 400, not 401. */
const AFTER_VERIFICATION: ReadonlySet<WebhookRejectReason> = new Set(['malformed-payload', 'foreign-response-url']);

/** Connector ids are opaque; anything else in the path is a 404 before any lookup. */
const CONNECTOR_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The hook route's one body cap (1 MiB), applied after the lookup: see step 3. */
const bodyCap = rawBodyLimit();

/**
 * POST /hooks/<platform>/:connectorId, one pipeline for every platform. Precedence (same
 * numbers in docs/webhooks.md):
 *  1. rate limit per client IP — mounted in front of these routes by the Worker     else 429
 *  2. look up: id well-formed, connector exists, is live and of this platform      else 404
 *  3. read: raw body at most 1 MiB (declared or counted while streaming), once     else 413
 *  4. verify: the platform's check of the raw bytes (signature / secret header)    else 401
 *  5. parse: the body (UTF-8) as the platform's payload — JSON, or for Slack a
 *     form-encoded slash command whose response_url is on hooks.slack.com          else 400
 *  6. acknowledge at once; dedupe and deliver in the background (waitUntil), handing the
 *     record looked up in 2 to the delivery
 *  7. anything else is refused: no path reaches 6 without passing 2–5.
 * Before the acknowledgement the gateway does one lookup (one row, one vault open of the
 * verification secret) and writes nothing: rejections are audited in the background too.
 */
export function hookHandler(adapter: PlatformAdapter, deps: PipelineDeps) {
  const { platform } = adapter;
  return async function handleHook(c: Context<AppEnv>): Promise<Response> {
    const header = (name: string) => c.req.header(name);
    // 2
    const connectorId = c.req.param('connectorId') ?? '';
    if (!CONNECTOR_ID.test(connectorId)) throw new ApiError('NOT_FOUND');
    const record = await deps.lookup(c.env, platform, connectorId);
    // Unknown, deleted and other-platform connectors all get the one generic 404.
    if (!record || record.platform !== platform) throw new ApiError('NOT_FOUND');
    // 3
    await bodyCap(c, async () => undefined);
    const raw = new Uint8Array(await c.req.arrayBuffer());
    const reject = (reason: WebhookRejectReason): never => {
      const now = deps.clock();
      inBackground(c, 'webhook.audit.failed', () =>
        deps.audit(
          c.env,
          {
            workspaceId: record.workspaceId,
            kind: 'webhook.rejected',
            actor: `ip:${c.get('clientIp') ?? 'unknown'}`,
            data: { platform, connectorId, reason },
          },
          now,
        ),
      );
      // The reason stays in the audit log; the client learns only the generic code.
      throw new ApiError(AFTER_VERIFICATION.has(reason) ? 'VALIDATION_ERROR' : 'UNAUTHENTICATED');
    };
    // 4
    const verdict = await adapter.verify({ record, raw, header, now: deps.clock() });
    if (!verdict.ok) return reject(verdict.reason);
    // 5
    let body: string;
    try {
      body = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(raw);
    } catch {
      return reject('malformed-payload');
    }
    const outcome = adapter.parse(body, { target: { connectorId, agentId: record.agentId }, header, now: deps.clock() });
    if (outcome.kind === 'invalid') return reject('malformed-payload');
    if (outcome.kind === 'refused') return reject(outcome.reason);
    if (outcome.kind === 'answer') return outcome.respond(c);
    // 6
    const now = deps.clock();
    const { eventKey, message, retryNum } = outcome;
    inBackground(c, 'webhook.handoff.failed', async () => {
      const seen = await markSeen(c.env, platform, connectorId, eventKey, now);
      if (seen !== 'first') {
        await deps.audit(
          c.env,
          {
            workspaceId: record.workspaceId,
            kind: 'webhook.duplicate',
            actor: 'system',
            data: { platform, connectorId, eventKey, retryNum },
          },
          now,
        );
        return;
      }
      if (message) await deps.deliverInbound(message, c.env, record);
    });
    return outcome.respond(c);
  };
}

function inBackground(c: Context<AppEnv>, label: string, work: () => Promise<unknown>): void {
  c.executionCtx.waitUntil(
    work().catch((error: unknown) => {
      console.error(
        JSON.stringify({
          level: 'error',
          event: label,
          requestId: c.get('requestId'),
          error: error instanceof Error ? error.name : 'unknown',
        }),
      );
    }),
  );
}
