/**
 * The environment a call starts with. A credential the tool declares with `env:inject:NAME`
 * and that is bound to hosts (vault allowedHosts) reaches the tool as a fresh random
 * placeholder; only the egress path (outbound handler or the runner's proxy) swaps it for the
 * value, and only towards those hosts. Credentials without bound hosts are not injected:
 * plain injection needs an operator allowance that this gateway does not offer yet (fail
 * closed). `env:read` passthrough names get nothing for the same reason.
 */
import { bytesToHex, REDACTED } from '../lib';
import type { EnvInjection } from '../policy';
import { listSecrets, type VaultDeps } from '../vault';
import type { CredentialBinding } from './executor';

export const PLACEHOLDER_PREFIX = 'PORTCULLIS_PLACEHOLDER_';

/** 128 random bits: unguessable, and distinctive enough to find in any text. */
export function newPlaceholder(): string {
  return `${PLACEHOLDER_PREFIX}${bytesToHex(crypto.getRandomValues(new Uint8Array(16)))}`;
}

export type ToolEnvResult = { ok: true; env: Record<string, string>; credentials: CredentialBinding[]; skipped: string[] } | { ok: false };

export async function toolEnvironment(vault: VaultDeps, workspaceId: string, injections: readonly EnvInjection[]): Promise<ToolEnvResult> {
  const wanted = injections.filter((injection) => injection.source === 'credential').map((injection) => injection.name);
  const skipped = injections.filter((injection) => injection.source !== 'credential').map((injection) => injection.name);
  if (wanted.length === 0) return { ok: true, env: {}, credentials: [], skipped };
  const listed = await listSecrets(vault, { workspaceId, ownerKind: 'credential', ownerId: workspaceId });
  if (!listed.ok) return { ok: false };
  const env: Record<string, string> = {};
  const credentials: CredentialBinding[] = [];
  for (const name of wanted) {
    const secret = listed.value.find((candidate) => candidate.name === name);
    if (!secret || !secret.allowedHosts || secret.allowedHosts.length === 0) {
      skipped.push(name);
      continue;
    }
    const placeholder = newPlaceholder();
    env[name] = placeholder;
    credentials.push({ name, placeholder, hosts: secret.allowedHosts });
  }
  return { ok: true, env, credentials, skipped };
}

/** Placeholders are worthless outside their call, but they never leave the gateway in a result either. */
export function removePlaceholders(text: string, credentials: readonly CredentialBinding[]): string {
  let out = text;
  for (const { placeholder } of credentials) out = out.split(placeholder).join(REDACTED);
  return out;
}
