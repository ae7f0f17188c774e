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
  (t) => [uniqueIndex('audit_events_chain_unique').on(t.workspaceId, t.seq), index('audit_events_created_idx').on(t.workspaceId, t.createdAt)],
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
