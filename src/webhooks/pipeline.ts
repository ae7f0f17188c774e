import type { Context } from 'hono';
import type { AuditInput, WebhookRejectReason } from '../audit';
import type { AppEnv, Env } from '../env';
import { ApiError, rawBodyLimit } from '../http';
import { confirmCopy, objectRecord, type VerifyRequest } from './copy-check';
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
   * Set when the record is this isolate's copy, which may be up to ISOLATE_RECORD_TTL_MS
   * behind a change made through another isolate: it may verify and answer a request, but a
   * hand-off waits until the connector's object confirms it (hookHandler, step 6).
   */
  isolateCopy?: true;
  /**
   * Opens the bot token from the vault, for the reply path only: an unverified request must
   * not make the gateway decrypt more than the verification secret. Absent or null = none.
   */
  openBotToken?: () => Promise<string | null>;
}

/**
 * Finds a live connector of this platform, its verification secret opened; null for unknown
 * and deleted ones alike. Only with `allowIsolateCopy` may the answer be this isolate's copy
 * (then marked `isolateCopy`); the webhook's verification step is the one caller that asks.
 */
export type ConnectorLookup = (
  env: Env,
  platform: Platform,
  connectorId: string,
  options?: { allowIsolateCopy?: boolean },
) => Promise<ConnectorRecord | null>;

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
 *     record the request was verified against to the delivery
 *  7. anything else is refused: no path reaches 6 without passing 2–5.
 * Step 2 may answer with this isolate's copy of the record (copy-check.ts): a request that
 * fails against it is verified again against the connector object's record (a second lookup),
 * and nothing verified against a copy is de-duplicated, delivered or audited before the object
 * confirms it. Before the acknowledgement the gateway writes nothing: rejections are audited
 * in the background too.
 */
export function hookHandler(adapter: PlatformAdapter, deps: PipelineDeps) {
  const { platform } = adapter;
  return async function handleHook(c: Context<AppEnv>): Promise<Response> {
    const header = (name: string) => c.req.header(name);
    // 2
    const connectorId = c.req.param('connectorId') ?? '';
    if (!CONNECTOR_ID.test(connectorId)) throw new ApiError('NOT_FOUND');
    const found = await deps.lookup(c.env, platform, connectorId, { allowIsolateCopy: true });
    // Unknown, deleted and other-platform connectors all get the one generic 404.
    if (!found || found.platform !== platform) throw new ApiError('NOT_FOUND');
    let record = found;
    // 3
    let raw: Uint8Array;
    try {
      await bodyCap(c, async () => undefined);
      raw = new Uint8Array(await c.req.arrayBuffer());
    } catch (error) {
      // A copy must not make a 413 tell that a connector deleted elsewhere existed.
      if (record.isolateCopy && !(await objectRecord(deps.lookup, c.env, platform, connectorId))) throw new ApiError('NOT_FOUND');
      throw error;
    }
    const audit = (workspaceId: string, reason: WebhookRejectReason, now: number) =>
      deps.audit(
        c.env,
        { workspaceId, kind: 'webhook.rejected', actor: `ip:${c.get('clientIp') ?? 'unknown'}`, data: { platform, connectorId, reason } },
        now,
      );
    const check = { lookup: deps.lookup, adapter, env: c.env };
    const request: VerifyRequest = { raw, header, now: deps.clock() };
    const reject = (reason: WebhookRejectReason): never => {
      const now = deps.clock();
      const rejected = record;
      inBackground(c, 'webhook.audit.failed', async () => {
        // Verified against a copy only: audited in the workspace the object confirms, if any.
        const current = rejected.isolateCopy ? await confirmCopy(check, connectorId, rejected, request) : rejected;
        if (current) await audit(current.workspaceId, reason, now);
      });
      // The reason stays in the audit log; the client learns only the generic code.
      throw new ApiError(AFTER_VERIFICATION.has(reason) ? 'VALIDATION_ERROR' : 'UNAUTHENTICATED');
    };
    // 4
    let verdict = await adapter.verify({ record, ...request });
    if (!verdict.ok && record.isolateCopy) {
      // This isolate's copy may predate a secret set through another isolate: the object decides.
      const current = await objectRecord(deps.lookup, c.env, platform, connectorId);
      if (!current) throw new ApiError('NOT_FOUND');
      record = current;
      verdict = await adapter.verify({ record, ...request });
    }
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
    const verifiedWith = record;
    inBackground(c, 'webhook.handoff.failed', async () => {
      // Verified against this isolate's copy: nothing (not even dedupe) before the object confirms it.
      const current = verifiedWith.isolateCopy ? await confirmCopy(check, connectorId, verifiedWith, request) : verifiedWith;
      if (!current) return audit(verifiedWith.workspaceId, 'connector-changed', now);
      const seen = await markSeen(c.env, platform, connectorId, eventKey, now);
      if (seen !== 'first') {
        await deps.audit(
          c.env,
          {
            workspaceId: current.workspaceId,
            kind: 'webhook.duplicate',
            actor: 'system',
            data: { platform, connectorId, eventKey, retryNum },
          },
          now,
        );
        return;
      }
      if (message) await deps.deliverInbound(message, c.env, current);
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
