import type { DiscordRejectReason, SlackRejectReason, TelegramRejectReason } from './reject-reasons';

/**
 * Every audit event kind and the fields it carries. The type is the allowlist: a field
 * that is not named here cannot be recorded, and no field here holds a secret (token,
 * password, hash of either, credential value). Reasons are internal detail for operators;
 * they never reach the client that caused them.
 */
export interface AuditEventMap {
  'setup.completed': { workspaceId: string; userId: string };
  'setup.refused': { reason: 'already-done' | 'bad-token' | 'not-configured' };
  'auth.login.succeeded': { userId: string; sessionId: string };
  'auth.login.failed': { reason: 'unknown-email' | 'wrong-password' | 'no-password' | 'locked-out'; emailHash: string };
  'auth.logout': { userId: string; sessionId: string };
  /** `apiKeysRevoked`: ids of the keys the user had created, revoked with the change (docs/auth.md). */
  'auth.password.changed': { userId: string; sessionsRevoked: number; apiKeysRevoked: string[] };
  'auth.password.reset': { userId: string; sessionsRevoked: number; apiKeysRevoked: string[] };
  'auth.reset.issued': { userId: string; expiresAt: number };
  'auth.invite.issued': { userId: string; role: string; expiresAt: number };
  'auth.invite.accepted': { userId: string };
  'user.role.changed': { userId: string; from: string; to: string };
  /** A member removed from the workspace (DELETE /api/v1/members/:id): what went with them, never a token. */
  'user.removed': { userId: string; role: string; sessionsRevoked: number; apiKeysRevoked: string[]; oauthGrantsRevoked: number };
  'workspace.created': { workspaceId: string; name: string };
  'api_key.created': { keyId: string; name: string; scopes: string[]; expiresAt: number | null };
  'api_key.revoked': { keyId: string };
  'ratelimit.exceeded': { policy: string; key: string; windowS: number };
  'audit.verified': { ok: boolean; count: number };
  'agent.created': { agentId: string; name: string; isolation: string };
  'agent.updated': { agentId: string; fields: string[]; isolationFrom: string; isolationTo: string };
  'agent.deleted': { agentId: string };
  /** An agent's guards changed (PATCH …/agents/:id `guards`): the modes in force after the change; the classifier by provider and model only. */
  'agent.guard.changed': {
    agentId: string;
    injection: string;
    secrets: string;
    exfiltration: string;
    output: string;
    classifier: string | null;
  };
  /**
   * Guard verdicts of a turn (src/guards/verdicts.ts): reasons are rule ids and kinds, never
   * the text that triggered them or a secret. `passed` collects the guards that let a text through.
   */
  'agent.guard.passed': { agentId: string; conversationId: string; guards: string[] };
  'agent.guard.warned': GuardVerdictData;
  'agent.guard.blocked': GuardVerdictData;
  'agent.guard.withheld': GuardVerdictData;
  'agent.guard.needs-approval': GuardVerdictData;
  /** A workspace credential was created or replaced; the name only, never the value or its mask. */
  'credential.put': { name: string; created: boolean };
  'credential.deleted': { name: string };
  /** One call of rotateVault (instance chain): progress, never key material. */
  'vault.rotated': { resealed: number; remaining: number; unreadable: number; activeKeyId: string };
  'connector.created': { agentId: string; connectorId: string; platform: WebhookPlatform };
  'connector.deleted': { agentId: string; connectorId: string; platform: WebhookPlatform };
  /** A hook request that failed verification or parsing; the client only ever saw 401/400. */
  'webhook.rejected': { platform: WebhookPlatform; connectorId: string; reason: WebhookRejectReason };
  /** A verified, first-seen message handed to the agent runtime (never its text). */
  'webhook.accepted': { platform: WebhookPlatform; connectorId: string; agentId: string; conversationKey: string };
  /** A verified event whose key was already in the connector's dedupe window: acknowledged, not processed. */
  'webhook.duplicate': { platform: WebhookPlatform; connectorId: string; eventKey: string; retryNum: number | null };
  /** An outbound reply that the platform refused or that failed in transit (never the URL or token). */
  'webhook.reply.failed': {
    platform: WebhookPlatform;
    connectorId: string;
    reason: 'timeout' | 'network' | 'http-status' | 'platform-error' | 'no-bot-token' | 'expired' | 'bad-destination' | 'empty-reply';
    status: number | null;
  };
  /** One row per tool of an installed manifest; `source` is `inline` or the manifest URL. */
  'tool.installed': { agentId: string; tools: string[]; manifest: string; provenance: string; source: string };
  'tool.install.refused': {
    agentId: string;
    reason: 'url-not-allowed' | 'fetch-failed' | 'compile-error' | 'schema-unsupported' | 'conflict';
    code: string | null;
  };
  'tool.removed': { agentId: string; tool: string };
  /** A call that ran (or failed to run); never its arguments or output. `egressDropped`: egress events not audited one by one (over the cap, or malformed). */
  'tool.invoked': {
    agentId: string;
    tool: string;
    invocationId: string;
    status: string;
    exitCode: number | null;
    durationMs: number | null;
    stopReason: string | null;
    executor: string;
    egressDropped: number;
  };
  /** A call refused before running: invalid arguments, policy, isolation, configuration, concurrency. */
  'tool.invocation.refused': {
    agentId: string;
    tool: string;
    reason:
      | 'invalid-arguments'
      | 'schema-refused'
      | 'isolation-not-allowed'
      | 'executor-unavailable'
      | 'concurrency-limit'
      | 'policy-compile'
      | 'executor-refused';
  };
  /** One agent turn (or the resumed part of one) ended; counts only, never the text. */
  'agent.turn.finished': {
    agentId: string;
    conversationId: string;
    outcome: string;
    steps: number;
    toolCalls: number;
    inputTokens: number;
    outputTokens: number;
    durationMs: number;
  };
  /** A turn paused on a tool call that needs approval; it resumes when the approval is decided, or ends when it expires. */
  'agent.turn.paused': { agentId: string; conversationId: string; approvalId: string; tool: string };
  /** A model call failed; `failure` is the tagged kind (src/models ModelFailure), never the provider's text. */
  'agent.model.failed': { agentId: string; conversationId: string; provider: string; failure: string; status: number | null };
  'tool.approval.requested': { agentId: string; tool: string; invocationId: string; approvalId: string; expiresAt: number };
  'tool.approval.decided': {
    agentId: string;
    tool: string;
    invocationId: string;
    approvalId: string;
    decision: 'approved' | 'denied' | 'expired';
  };
  /** Someone who may not decide an approval tried to (approval-routes.ts rules 1 and 3); the approval stays pending. */
  'tool.approval.refused': { approvalId: string; reason: 'not-a-decider' | 'own-request' };
  /** An MCP client initialized a session on an agent's endpoint (src/mcp/routes.ts); `credentialId` is the API key id. */
  'mcp.session.opened': { agentId: string; credentialId: string };
  /** An MCP client ended its session with DELETE. */
  'mcp.session.closed': { agentId: string; credentialId: string };
  /** A client registered itself through dynamic client registration (RFC 7591, POST /oauth/register); name as sent. */
  'oauth.client.registered': { clientId: string; clientName: string; redirectUris: string[] };
  /** A member granted tools:invoke on one agent to an OAuth client on the consent page (src/mcp/oauth/consent.ts). */
  'oauth.grant.created': { grantId: string; clientId: string; clientName: string; agentId: string; userId: string; scope: string[] };
  /** A grant was revoked (DELETE /api/v1/oauth/grants/{id}); its tokens are refused from the next request. */
  'oauth.grant.revoked': { grantId: string; clientId: string; agentId: string; userId: string };
  /**
   * One egress event of a sandboxed call, from either egress path: the runner's local proxy
   * (its `egressEvents`, written by src/tools/run.ts with the call's `invocationId`) or the
   * container's outbound handler (src/tools/sandbox-object.ts, `invocationId` null: the
   * handler is set per container, not per call). `rule` is the numbered precedence of the
   * deciding side (docs/policy.md, docs/sandbox.md); `swapped` names credentials (never
   * values). Host and port only: never the path, headers or payload.
   */
  'tool.egress': {
    agentId: string;
    tool: string;
    invocationId: string | null;
    host: string;
    port: number;
    allow: boolean;
    rule: number;
    reason: string;
    swapped: string[];
  };
  /** A live events connection opened (docs/events.md): how, and the scopes it reads with. Never the ticket. */
  'events.connection.opened': { via: 'ticket' | 'session'; scopes: string[] };
}

export type WebhookPlatform = 'discord' | 'slack' | 'telegram';

/** One guard verdict as audited (agent.guard.*). */
export interface GuardVerdictData {
  agentId: string;
  conversationId: string;
  guard: string;
  mode: string;
  reasons: string[];
}

/** Internal reasons a hook request is refused: the verifiers' own reasons, plus a bad payload. */
/**
 * After verification: `malformed-payload` (not the platform's payload), `foreign-response-url`
 * (a Slack command whose response_url is not on hooks.slack.com), `connector-changed`
 * (verified against an isolate's copy of the connector that its object no longer confirms:
 * deleted, or its secret replaced; acknowledged, never handed off).
 */
export type WebhookRejectReason =
  DiscordRejectReason | SlackRejectReason | TelegramRejectReason | 'malformed-payload' | 'foreign-response-url' | 'connector-changed';

export type AuditKind = keyof AuditEventMap;

export interface AuditInput<K extends AuditKind = AuditKind> {
  /** A workspace id, or INSTANCE_CHAIN for events that belong to no workspace. */
  workspaceId: string;
  kind: K;
  /** `user:<id>`, `api_key:<id>`, `ip:<addr>` or `system`. */
  actor: string;
  data: AuditEventMap[K];
}

/** Chain for events with no workspace (setup, logins for unknown emails). */
export const INSTANCE_CHAIN = 'instance';

/** A stored event as the chain sees it. */
export interface AuditEvent {
  id: string;
  workspaceId: string;
  seq: number;
  kind: string;
  actor: string;
  data: string;
  createdAt: number;
  prevHash: string;
  hash: string;
}
