import { ApiError } from './errors';

/**
 * What a domain function (agents.ts, api-keys.ts, …) answers instead of throwing: a value, or
 * a tagged refusal. Domain code never builds a wire error; a route hands the problem to
 * `problemToApiError`, the one mapping from domain refusals to the error envelope. A
 * `message` is the fixed sentence the client sees (never input, never an internal reason).
 */
export type DomainProblem =
  /** The credential was valid but its user is gone (deleted meanwhile). */
  | { kind: 'unauthenticated' }
  /** Missing, or in another workspace: the two look the same (DESIGN.md "Tenancy"). */
  | { kind: 'not-found' }
  /** The caller is known but may not do this. */
  | { kind: 'forbidden'; message?: string }
  /** A rule of the deployment refuses it (e.g. isolation `unrestricted` switched off). */
  | { kind: 'policy-denied'; message: string }
  /** The input is well-formed but not acceptable; `fields` names the paths, never values. */
  | { kind: 'invalid'; message: string; fields: string[] }
  /** The state changed or already holds (duplicate, decided meanwhile). */
  | { kind: 'conflict'; message: string }
  /** An outbound URL the gateway will not call (scheme, private address, userinfo). */
  | { kind: 'url-not-allowed'; message: string; fields: string[] };

export type Outcome<T> = { ok: true; value: T } | { ok: false; problem: DomainProblem };

export function done<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function refused<T = never>(problem: DomainProblem): Outcome<T> {
  return { ok: false, problem };
}

/** The one mapping from a domain refusal to a wire error (exhaustive: a new kind must be mapped). */
export function problemToApiError(problem: DomainProblem): ApiError {
  switch (problem.kind) {
    case 'unauthenticated':
      return new ApiError('UNAUTHENTICATED');
    case 'not-found':
      return new ApiError('NOT_FOUND');
    case 'forbidden':
      return new ApiError('FORBIDDEN', problem.message);
    case 'policy-denied':
      return new ApiError('POLICY_DENIED', problem.message);
    case 'invalid':
      return new ApiError('VALIDATION_ERROR', problem.message, { fields: problem.fields });
    case 'conflict':
      return new ApiError('CONFLICT', problem.message);
    case 'url-not-allowed':
      return new ApiError('URL_NOT_ALLOWED', problem.message, { fields: problem.fields });
  }
}

/** A route's last step: the value, or the mapped wire error thrown for app.onError. */
export function valueOf<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) throw problemToApiError(outcome.problem);
  return outcome.value;
}
