import { z } from '@hono/zod-openapi';
import { utf8 } from '../lib';
import { DEFAULT_ROTATION_BATCH_SIZE, MAX_ROTATION_BATCH_SIZE } from './rotate';

/**
 * Request and response bodies of the credential and vault-admin routes. The routes
 * themselves live with authentication (the lead's issue); they validate with these and
 * call src/vault/credentials.ts and rotateVault. Validation errors name field paths only,
 * never the value (src/http fieldPaths), so a rejected secret is not echoed.
 */

export const CREDENTIAL_NAME_PATTERN = /^[A-Z][A-Z0-9_]{0,63}$/;
export const MAX_CREDENTIAL_VALUE_BYTES = 16 * 1024;
export const MAX_ALLOWED_HOSTS = 32;

/**
 * A DNS hostname (RFC 1123 §2.1 labels, at most 253 characters), lower-cased first.
 * No scheme, port, path, wildcard, trailing dot or IP literal (the last label must hold a
 * letter): private destinations are opened by operator configuration, not by a credential.
 */
const HOSTNAME_PATTERN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9-]*[a-z][a-z0-9-]*$/;
const LABEL_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export const Hostname = z
  .string()
  .trim()
  .toLowerCase()
  .regex(HOSTNAME_PATTERN)
  .refine((host) => host.split('.').every((label) => LABEL_PATTERN.test(label)))
  .openapi({ example: 'api.github.com' });

export const CredentialName = z.string().regex(CREDENTIAL_NAME_PATTERN).openapi({ example: 'GITHUB_TOKEN' });

export const CredentialNameParams = z.object({
  name: CredentialName.openapi({ param: { name: 'name', in: 'path' } }),
});

export const PutCredentialBody = z
  .object({
    value: z
      .string()
      .min(1)
      .refine((value) => utf8(value).length <= MAX_CREDENTIAL_VALUE_BYTES, { message: 'too long' })
      .openapi({ description: `The secret; at most ${MAX_CREDENTIAL_VALUE_BYTES} bytes of UTF-8. Never returned.` }),
    allowedHosts: z
      .array(Hostname)
      .max(MAX_ALLOWED_HOSTS)
      .transform((hosts) => [...new Set(hosts)])
      .optional()
      .openapi({ description: 'Hostnames this credential may be sent to; omitted = not bound.' }),
  })
  .strict()
  .openapi('PutCredentialBody');

export const CredentialView = z
  .object({
    name: CredentialName,
    masked: z.string().openapi({ example: '••••a1b2', description: '`••••` + last 4 characters; `••••` alone when shorter than 12.' }),
    allowedHosts: z.array(z.string()).nullable(),
    createdAt: z.number().int(),
    updatedAt: z.number().int(),
  })
  .openapi('Credential');

export const CredentialList = z.object({ credentials: z.array(CredentialView) }).openapi('CredentialList');

export const RotateVaultBody = z
  .object({
    batchSize: z.number().int().min(1).max(MAX_ROTATION_BATCH_SIZE).default(DEFAULT_ROTATION_BATCH_SIZE),
  })
  .strict()
  .openapi('RotateVaultBody');

export const RotateVaultResult = z
  .object({
    resealed: z.number().int(),
    remaining: z.number().int().openapi({
      description:
        'Envelopes not yet under the active key (vault rows and the conversation objects’ transcripts, queued messages and paused turns; an object this call did not reach counts as 1); call again until 0.',
    }),
    unreadable: z.number().int().openapi({ description: 'Envelopes that could not be opened (their key was removed).' }),
    activeKeyId: z.string(),
  })
  .openapi('RotateVaultResult');
