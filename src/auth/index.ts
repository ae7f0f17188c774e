export { API_KEY_PREFIX, isWellFormedApiKey } from './api-key-format';
export { createApiKey, listApiKeys, revokeApiKey, type ApiKeyBindings } from './api-keys';
export {
  authenticate,
  grantPrincipal,
  principalOf,
  requireScope,
  sessionMember,
  type CsrfProof,
  type CsrfTokenSource,
} from './authenticate';
export { sessionBoundToken, sessionFormToken } from './form-token';
export type { LoginAttemptCounted, LoginAttemptKeys, LoginThrottle } from './login-throttle';
export { ARGON2_PARAMS, hashPassword, verifyPassword, type Argon2id } from './passwords';
export { checkPasswordPolicy } from './password-policy';
export { apiKeyRoutes } from './routes/api-key-routes';
export type { Clock } from './routes/clock';
export { sessionRoutes } from './routes/session-routes';
export { setupRoutes } from './routes/setup';
export { userRoutes } from './routes/user-routes';
export { removeMember, type MemberRemoved } from './remove-member';
export { changeUserRole, createWorkspace, getMe, inviteUser, issuePasswordReset, listUsers, type UserBindings } from './users';
export { PUBLIC, secured, signedIn, signedInWithAnyOf, type Access } from './secured';
export { actorOfPrincipal, exclusiveScopeConflict, ROLE_RANK, ROLE_SCOPES, SCOPES, type Principal, type Scope } from './scopes';
export { hashToken, randomToken, timingSafeEqualText } from './tokens';
export { runSetup, setupNeeded } from './setup';
export { setSessionCookie, signIn, signOut, type SignInDeps } from './sign-in';
export { SESSION_COOKIE_NAME } from './sessions';
export { MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './password-policy';
export { acceptInvite, changePassword, resetPassword } from './password-lifecycle';
