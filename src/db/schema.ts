import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/**
 * D1 schema. docs/storage.md documents every table and column, and what in it is secret.
 * Times are integer milliseconds since the epoch (UTC). Ids are random, never sequential.
 */

export const workspaces = sqliteTable('workspaces', {
  id: text('id').primaryKey(),
  name: text('name').notNull(),
  createdAt: integer('created_at').notNull(),
});

export const ROLES = ['owner', 'admin', 'operator', 'viewer'] as const;
export type Role = (typeof ROLES)[number];

export const users = sqliteTable(
  'users',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    /** Lower-cased; unique across the instance so an email names one account. */
    email: text('email').notNull(),
    /** Argon2id PHC string; null until an invitation is accepted. */
    passwordHash: text('password_hash'),
    role: text('role', { enum: ROLES }).notNull(),
    /** The owner created by first-time setup; may create further workspaces. */
    isInstanceOwner: integer('is_instance_owner', { mode: 'boolean' }).notNull().default(false),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [uniqueIndex('users_email_unique').on(t.email), index('users_workspace_idx').on(t.workspaceId)],
);

export const sessions = sqliteTable(
  'sessions',
  {
    id: text('id').primaryKey(),
    /** SHA-256 of the session token; the token itself is only in the client's cookie. */
    tokenHash: text('token_hash').notNull(),
    /** SHA-256 of the CSRF token handed to the client at login. */
    csrfTokenHash: text('csrf_token_hash').notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    workspaceId: text('workspace_id').notNull(),
    createdAt: integer('created_at').notNull(),
    lastSeenAt: integer('last_seen_at').notNull(),
    /** Absolute expiry; idle expiry is derived from lastSeenAt. */
    expiresAt: integer('expires_at').notNull(),
    revokedAt: integer('revoked_at'),
  },
  (t) => [uniqueIndex('sessions_token_hash_unique').on(t.tokenHash), index('sessions_user_idx').on(t.userId)],
);

export const apiKeys = sqliteTable(
  'api_keys',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    createdBy: text('created_by').notNull(),
    name: text('name').notNull(),
    /** Public, non-secret parts shown in listings: `pcl_` + first chars, and last 4. */
    prefix: text('prefix').notNull(),
    last4: text('last4').notNull(),
    /** SHA-256 of the whole key. Keys carry 256 bits of entropy, so a fast hash suffices. */
    keyHash: text('key_hash').notNull(),
    /** JSON array of scope names. */
    scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at'),
    revokedAt: integer('revoked_at'),
    lastUsedAt: integer('last_used_at'),
  },
  (t) => [uniqueIndex('api_keys_key_hash_unique').on(t.keyHash), index('api_keys_workspace_idx').on(t.workspaceId)],
);

export const auditEvents = sqliteTable(
  'audit_events',
  {
    id: text('id').primaryKey(),
    /** Chain id: a workspace id, or `instance` for events that belong to no workspace. */
    workspaceId: text('workspace_id').notNull(),
    /** Position in the workspace's chain, from 1 with no gaps. */
    seq: integer('seq').notNull(),
    kind: text('kind').notNull(),
    /** Who acted: `user:<id>`, `api_key:<id>`, `ip:<addr>`, `system`. */
    actor: text('actor').notNull(),
    /** Event-specific fields, JSON; bounded (see src/audit/limits.ts). */
    data: text('data').notNull(),
    createdAt: integer('created_at').notNull(),
    /** Hash of the previous event in this chain (64 zeros for the first). */
    prevHash: text('prev_hash').notNull(),
    /** SHA-256 of the canonical JSON of this event including prevHash. */
    hash: text('hash').notNull(),
  },
  (t) => [
    uniqueIndex('audit_events_chain_unique').on(t.workspaceId, t.seq),
    index('audit_events_created_idx').on(t.workspaceId, t.createdAt),
  ],
);

export const ONE_TIME_TOKEN_PURPOSES = ['invite', 'password-reset'] as const;
export type OneTimeTokenPurpose = (typeof ONE_TIME_TOKEN_PURPOSES)[number];

/** Invitation and password-reset tokens: shown once, stored hashed, single use, 1 h. */
export const oneTimeTokens = sqliteTable(
  'one_time_tokens',
  {
    id: text('id').primaryKey(),
    /** SHA-256 of the token; the token itself is shown once and never stored. */
    tokenHash: text('token_hash').notNull(),
    purpose: text('purpose', { enum: ONE_TIME_TOKEN_PURPOSES }).notNull(),
    userId: text('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    workspaceId: text('workspace_id').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    usedAt: integer('used_at'),
  },
  (t) => [uniqueIndex('one_time_tokens_hash_unique').on(t.tokenHash), index('one_time_tokens_user_idx').on(t.userId)],
);

/**
 * Vault entries: workspace credentials and connector secrets, AES-256-GCM envelopes bound by
 * their AAD to (workspace, owner kind, owner id, name). See src/vault/ and docs/storage.md.
 */
export const vaultSecrets = sqliteTable(
  'vault_secrets',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    /** `credential` (PUT /api/v1/credentials/:name) or `connector` (a connector's secrets). */
    ownerKind: text('owner_kind').notNull(),
    /** The workspace id for credentials, the connector id for connector secrets. */
    ownerId: text('owner_id').notNull(),
    name: text('name').notNull(),
    /** `v1.<keyId>.<nonce>.<ciphertext+tag>`; the plaintext never touches D1. */
    envelope: text('envelope').notNull(),
    /** Keyring id that sealed the envelope; rotation re-seals every row not under the active key. */
    keyId: text('key_id').notNull(),
    /** Masked form shown by the API (`••••` + last 4, or fully masked when short). */
    masked: text('masked').notNull(),
    /** JSON array of hosts this credential may be sent to (tool egress); null = not bound. */
    allowedHosts: text('allowed_hosts', { mode: 'json' }).$type<string[] | null>(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('vault_secrets_owner_name_unique').on(t.workspaceId, t.ownerKind, t.ownerId, t.name),
    index('vault_secrets_key_idx').on(t.keyId),
  ],
);

export const ISOLATION_LEVELS = ['container', 'sandbox', 'unrestricted'] as const;
export type IsolationLevel = (typeof ISOLATION_LEVELS)[number];

/** An agent: what connectors deliver to and what tools are installed on. */
export const agents = sqliteTable(
  'agents',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    /** JSON object validated by the agents API (src/agents/schemas.ts). */
    settings: text('settings', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    /** How this agent's tool calls are isolated; changes apply to new sandboxes only. */
    isolation: text('isolation', { enum: ISOLATION_LEVELS }).notNull().default('container'),
    /** The runtime's model settings (src/models ModelSettings: provider, model, baseUrl, credential name); null = no runtime. Never a key. */
    model: text('model', { mode: 'json' }).$type<AgentModelSettings>(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
  },
  (t) => [index('agents_workspace_idx').on(t.workspaceId)],
);

/** The stored shape of agents.model (validated by src/models ModelSettings at the edge). */
export interface AgentModelSettings {
  provider: 'openai-compatible' | 'anthropic' | 'workers-ai';
  model: string;
  baseUrl?: string;
  credential?: string;
}

export const PLATFORMS = ['discord', 'slack', 'telegram'] as const;
export type Platform = (typeof PLATFORMS)[number];

/**
 * A channel connector: the webhook endpoint /hooks/<platform>/<id>. Its secrets (bot token,
 * signing secret, secret token) live in vault_secrets (owner_kind `connector`, owner_id = id).
 */
export const connectors = sqliteTable(
  'connectors',
  {
    /** 128-bit random: the webhook URL is not guessable. */
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    agentId: text('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    platform: text('platform', { enum: PLATFORMS }).notNull(),
    /** Discord application id (public). */
    applicationId: text('application_id'),
    /** Discord Ed25519 public key, 64 hex (public, not secret). */
    publicKey: text('public_key'),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('connectors_agent_idx').on(t.agentId)],
);

export const APPROVAL_MODES = ['never', 'always', 'on-miss'] as const;
export type ApprovalMode = (typeof APPROVAL_MODES)[number];

/** A tool installed on an agent: one row per tool of an installed manifest. */
export const installedTools = sqliteTable(
  'installed_tools',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    agentId: text('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** The whole manifest (JSON) this tool came from. */
    manifest: text('manifest', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    /** `sha256:` of the RFC 8785 canonical manifest. */
    provenance: text('provenance').notNull(),
    /** Where the manifest came from: `inline` or the https URL it was fetched from. */
    source: text('source').notNull(),
    approval: text('approval', { enum: APPROVAL_MODES }).notNull().default('never'),
    /** JSON array of argument patterns that need no approval under `on-miss`. */
    approvalAllowlist: text('approval_allowlist', { mode: 'json' }).$type<Array<Record<string, string>>>().notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [uniqueIndex('installed_tools_agent_name_unique').on(t.agentId, t.name)],
);

export const INVOCATION_STATUSES = ['pending_approval', 'running', 'completed', 'failed', 'timed_out', 'denied', 'expired'] as const;
export type InvocationStatus = (typeof INVOCATION_STATUSES)[number];

/** One tool call. stdout/stderr are stored after redaction and within the output cap. */
export const toolInvocations = sqliteTable(
  'tool_invocations',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    agentId: text('agent_id').notNull(),
    toolName: text('tool_name').notNull(),
    /** Arguments as validated, after redaction. */
    arguments: text('arguments', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    status: text('status', { enum: INVOCATION_STATUSES }).notNull(),
    exitCode: integer('exit_code'),
    stdout: text('stdout'),
    stderr: text('stderr'),
    truncated: integer('truncated', { mode: 'boolean' }).notNull().default(false),
    durationMs: integer('duration_ms'),
    stopReason: text('stop_reason'),
    createdBy: text('created_by').notNull(),
    createdAt: integer('created_at').notNull(),
    finishedAt: integer('finished_at'),
  },
  (t) => [index('tool_invocations_agent_idx').on(t.workspaceId, t.agentId)],
);

export const APPROVAL_STATUSES = ['pending', 'approved', 'denied', 'expired'] as const;

/** A pending or decided approval, bound to the exact arguments it showed (by hash). */
export const approvals = sqliteTable(
  'approvals',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    agentId: text('agent_id').notNull(),
    toolName: text('tool_name').notNull(),
    invocationId: text('invocation_id').notNull(),
    /** SHA-256 of the canonical JSON of the arguments the approver saw. */
    argumentsHash: text('arguments_hash').notNull(),
    /** Who asked for the call (user id, and the session or API key id): never its decider. Null only on rows older than migration 0004, which nobody may decide. */
    requestedByUserId: text('requested_by_user_id'),
    requestedByCredentialId: text('requested_by_credential_id'),
    status: text('status', { enum: APPROVAL_STATUSES }).notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
    decidedBy: text('decided_by'),
    decidedAt: integer('decided_at'),
  },
  (t) => [index('approvals_workspace_idx').on(t.workspaceId, t.status)],
);

/**
 * One conversation of an agent: a REST conversation (`rest:<id>`) or a chat channel/thread
 * (the webhook's conversationKey). The transcript lives in the Conversation Durable Object
 * named by `id`, encrypted; this row only indexes it.
 */
export const conversations = sqliteTable(
  'conversations',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id')
      .notNull()
      .references(() => workspaces.id, { onDelete: 'cascade' }),
    agentId: text('agent_id')
      .notNull()
      .references(() => agents.id, { onDelete: 'cascade' }),
    /** `rest:<id>` or `<platform>:…` from the webhook adapters; unique per agent. */
    channelKey: text('channel_key').notNull(),
    createdAt: integer('created_at').notNull(),
    updatedAt: integer('updated_at').notNull(),
    /**
     * The vault key every sealed row of the conversation's object was last confirmed under by
     * vault rotation (src/conversations/rotation.ts); null until then, or after the object
     * sealed under another key. Rotation visits each row whose value is not the active key.
     */
    vaultKeyId: text('vault_key_id'),
  },
  (t) => [
    uniqueIndex('conversations_agent_key_unique').on(t.agentId, t.channelKey),
    index('conversations_workspace_idx').on(t.workspaceId, t.agentId),
  ],
);

/** A turn paused on an approval: which conversation to wake when the approval is decided. */
export const conversationWaits = sqliteTable('conversation_waits', {
  approvalId: text('approval_id').primaryKey(),
  workspaceId: text('workspace_id').notNull(),
  agentId: text('agent_id').notNull(),
  conversationId: text('conversation_id').notNull(),
  createdAt: integer('created_at').notNull(),
});

export const TURN_OUTCOMES = [
  'replied',
  'model-failed',
  'limit-steps',
  'limit-tool-calls',
  'limit-tokens',
  'limit-wall-time',
  'limit-daily-budget',
  'approval-expired',
  'guard-blocked',
] as const;
export type TurnOutcome = (typeof TURN_OUTCOMES)[number];

/** Usage of one turn, written when it ends (a turn paused for an approval counts as one, wait excluded): cost attribution per agent and UTC day. */
export const agentTurnUsage = sqliteTable(
  'agent_turn_usage',
  {
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    agentId: text('agent_id').notNull(),
    conversationId: text('conversation_id').notNull(),
    /** UTC day `YYYY-MM-DD` of the turn's start. */
    day: text('day').notNull(),
    inputTokens: integer('input_tokens').notNull(),
    outputTokens: integer('output_tokens').notNull(),
    toolCalls: integer('tool_calls').notNull(),
    steps: integer('steps').notNull(),
    durationMs: integer('duration_ms').notNull(),
    outcome: text('outcome', { enum: TURN_OUTCOMES }).notNull(),
    createdAt: integer('created_at').notNull(),
  },
  (t) => [index('agent_turn_usage_agent_day_idx').on(t.workspaceId, t.agentId, t.day)],
);

/**
 * MCP sessions (src/mcp/sessions.ts): the `Mcp-Session-Id` a client got at `initialize`,
 * stored only as its SHA-256, bound to the credential that created it and to one agent;
 * it answers as missing once expired, for another credential or on another agent's endpoint.
 */
export const mcpSessions = sqliteTable(
  'mcp_sessions',
  {
    /** SHA-256 (hex) of the session id; the id itself is never stored. */
    idHash: text('id_hash').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    agentId: text('agent_id').notNull(),
    /** The API key id (`key_…`) that initialized the session. */
    credentialId: text('credential_id').notNull(),
    createdAt: integer('created_at').notNull(),
    expiresAt: integer('expires_at').notNull(),
  },
  (t) => [index('mcp_sessions_expiry_idx').on(t.expiresAt)],
);

/**
 * OAuth grants given on the consent page (src/mcp/oauth/). The token records themselves live
 * in OAUTH_KV (hashed, @cloudflare/workers-oauth-provider); this row is the gateway's index of
 * them and the source of truth for "is this grant still live": every MCP request with an OAuth
 * token reads it, so a revocation is refused at once (KV deletes take up to 60 s to reach
 * every location). One grant = one workspace, one agent, one user, scope tools:invoke.
 */
export const oauthGrants = sqliteTable(
  'oauth_grants',
  {
    /** The library's grant id (the middle part of its tokens; not a secret). */
    id: text('id').primaryKey(),
    workspaceId: text('workspace_id').notNull(),
    agentId: text('agent_id').notNull(),
    userId: text('user_id').notNull(),
    clientId: text('client_id').notNull(),
    /** As the client registered it (self-asserted, shown escaped). */
    clientName: text('client_name').notNull(),
    scope: text('scope').notNull(),
    createdAt: integer('created_at').notNull(),
    revokedAt: integer('revoked_at'),
  },
  (t) => [index('oauth_grants_workspace_idx').on(t.workspaceId, t.createdAt)],
);
