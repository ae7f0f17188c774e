import { z } from '@hono/zod-openapi';
import { ROLES } from '../db';
import { MAX_PASSWORD_LENGTH } from './password-policy';
import { SCOPES } from './scopes';

/** Emails are compared lower-cased; 254 is the RFC 5321 path limit. */
export const Email = z
  .string()
  .trim()
  .max(254)
  .pipe(z.email())
  .transform((value) => value.toLowerCase())
  .openapi({ example: 'ops@example.com' });

// Length and content rules are applied by checkPasswordPolicy (so the error names the field
// without zod echoing anything); the schema only bounds the size.
export const Password = z
  .string()
  .max(MAX_PASSWORD_LENGTH * 4)
  .openapi({ format: 'password' });
export const Token = z.string().min(1).max(512);
export const Role = z.enum(ROLES);
export const Scope = z.enum(SCOPES);

export const UserView = z
  .object({
    id: z.string(),
    email: z.string(),
    role: Role,
    workspaceId: z.string(),
    isInstanceOwner: z.boolean(),
    createdAt: z.number().int(),
  })
  .openapi('User');

export function userView(user: {
  id: string;
  email: string;
  role: z.infer<typeof Role>;
  workspaceId: string;
  isInstanceOwner: boolean;
  createdAt: number;
}) {
  return {
    id: user.id,
    email: user.email,
    role: user.role,
    workspaceId: user.workspaceId,
    isInstanceOwner: user.isInstanceOwner,
    createdAt: user.createdAt,
  };
}

export const WorkspaceName = z.string().trim().min(1).max(100);

export { jsonContent } from '../http';
