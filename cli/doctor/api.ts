/**
 * Live checks with an API key (PORTCULLIS_API_KEY): what the key's workspace holds. Read-only
 * GETs. A list the key may not read (403) is a check that could not run, never "nothing found".
 */
import { parseCapability, quoteValue } from '../../src/policy/index.ts';
import { finding, type Finding, type NotRun } from './checks.ts';
import { type LiveIo, request } from './live.ts';

/** An API key unused this long is reported. */
export const KEY_UNUSED_DAYS = 90;
/** An owner without a sign-in this long is reported. */
export const OWNER_SIGNIN_DAYS = 90;
/** A vault key in use this long without a recorded rotation is reported. */
export const VAULT_KEY_ROTATION_DAYS = 180;
/** Pages of 500 audit events doctor reads at most (100,000 events) before saying the check could not run. */
export const AUDIT_PAGES_MAX = 200;
const DAY_MS = 86_400_000;
/** Binaries that are a shell: a tool that may spawn one may run anything the sandbox allows. */
export const SHELLS = ['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'fish', 'csh', 'tcsh', 'busybox'];

interface Agent {
  id: string;
  name: string;
  isolation: string;
}
interface Tool {
  name: string;
  approval: string;
  capabilities?: string[];
}
interface Credential {
  name: string;
  allowedHosts: string[] | null;
}
interface ApiKey {
  id: string;
  name: string;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
  createdAt: number;
}

interface User {
  id: string;
  email: string;
  role: string;
}
interface AuditEvent {
  kind: string;
  data: Record<string, unknown>;
  createdAt: number;
}

type Got<T> = { ok: true; body: T } | { ok: false; reason: string };

async function get<T>(io: LiveIo, url: URL, key: string, path: string): Promise<Got<T>> {
  let res: Response;
  try {
    res = await request(io, url, path, { headers: { Authorization: `Bearer ${key}` } });
  } catch (error) {
    return { ok: false, reason: `${path}: no answer (${(error as Error).name})` };
  }
  if (res.status !== 200) {
    const raw = ((await res.json().catch(() => ({}))) as { error?: { code?: unknown } }).error?.code;
    // Printed to a terminal: only the error envelope's UPPER_SNAKE shape passes.
    const code = typeof raw === 'string' && /^[A-Z_]{1,64}$/.test(raw) ? raw : 'unknown';
    return { ok: false, reason: `GET ${path} answered ${res.status} ${code}${res.status === 403 ? ' (the key lacks the scope)' : ''}` };
  }
  return { ok: true, body: (await res.json()) as T };
}

function toolProblems(agent: Agent, tool: Tool): Finding[] {
  if (tool.approval !== 'never') return [];
  const findings: Finding[] = [];
  for (const text of tool.capabilities ?? []) {
    const parsed = parseCapability(text);
    if (!parsed.ok) continue;
    const capability = parsed.capability;
    const where = `agent ${quoteValue(agent.id)} tool ${quoteValue(tool.name)} (approval never)`;
    if (capability.kind === 'exec' && SHELLS.includes(capability.binary.split('/').pop() ?? ''))
      findings.push(finding('api.tool.shell_without_approval', `${where} may run ${quoteValue(text)}`));
    if (capability.kind === 'net' && capability.host === '*')
      findings.push(finding('api.tool.net_any_without_approval', `${where} declares ${quoteValue(text)}`));
  }
  return findings;
}

export async function checkApi(url: URL, key: string, io: LiveIo, now: number): Promise<{ findings: Finding[]; notRun: NotRun[] }> {
  const findings: Finding[] = [];
  const notRun: NotRun[] = [];

  const agents = await get<{ agents: Agent[] }>(io, url, key, '/api/v1/agents');
  if (!agents.ok) notRun.push({ check: 'api.agents', reason: agents.reason });
  else {
    for (const agent of agents.body.agents) {
      if (agent.isolation === 'unrestricted')
        findings.push(
          finding('api.agent.unrestricted', `agent ${quoteValue(agent.id)} (${quoteValue(agent.name)}) has isolation unrestricted`),
        );
      const tools = await get<{ tools: Tool[] }>(io, url, key, `/api/v1/agents/${encodeURIComponent(agent.id)}/tools`);
      if (!tools.ok) notRun.push({ check: 'api.tools', reason: tools.reason });
      else if (tools.body.tools.some((tool) => !Array.isArray(tool.capabilities)))
        notRun.push({ check: 'api.tools', reason: 'this gateway does not list tool capabilities' });
      else for (const tool of tools.body.tools) findings.push(...toolProblems(agent, tool));
    }
  }

  const credentials = await get<{ credentials: Credential[] }>(io, url, key, '/api/v1/credentials');
  if (!credentials.ok) notRun.push({ check: 'api.credentials', reason: credentials.reason });
  else
    for (const credential of credentials.body.credentials)
      if (credential.allowedHosts === null)
        findings.push(finding('api.credential.unbound', `credential ${quoteValue(credential.name)} has no allowedHosts`));

  const keys = await get<{ apiKeys: ApiKey[] }>(io, url, key, '/api/v1/api-keys');
  if (!keys.ok) notRun.push({ check: 'api.keys', reason: keys.reason });
  else {
    for (const apiKey of keys.body.apiKeys) {
      if (apiKey.revokedAt !== null || (apiKey.expiresAt !== null && apiKey.expiresAt <= now)) continue;
      if (apiKey.expiresAt === null)
        findings.push(finding('api.key.no_expiry', `API key ${quoteValue(apiKey.id)} (${quoteValue(apiKey.name)}) never expires`));
      const idleDays = Math.floor((now - (apiKey.lastUsedAt ?? apiKey.createdAt)) / DAY_MS);
      if (idleDays >= KEY_UNUSED_DAYS)
        findings.push(
          finding('api.key.unused', `API key ${quoteValue(apiKey.id)} (${quoteValue(apiKey.name)}) unused for ${idleDays} days`),
        );
    }
  }

  findings.push(...(await signInAndRotation(io, url, key, now, notRun)));

  const verdict = await get<{ ok: boolean; count: number; firstBroken?: { kind: string } }>(io, url, key, '/api/v1/audit/verify');
  if (!verdict.ok) notRun.push({ check: 'api.audit', reason: verdict.reason });
  else if (!verdict.body.ok)
    findings.push(
      finding(
        'api.audit.broken',
        `the audit chain of ${verdict.body.count} events does not verify (first problem: ${verdict.body.firstBroken?.kind ?? 'unknown'})`,
      ),
    );
  return { findings, notRun };
}

/**
 * Owners' last sign-in and the vault key's age, from the workspace's own audit log (the API
 * keeps no last-sign-in or key date of its own): the newest `auth.login.succeeded` per owner,
 * and the newest `vault.rotated` (else the first event: the key has served at least since then).
 */
async function signInAndRotation(io: LiveIo, url: URL, key: string, now: number, notRun: NotRun[]): Promise<Finding[]> {
  const users = await get<{ users: User[] }>(io, url, key, '/api/v1/users');
  if (!users.ok) notRun.push({ check: 'api.owners', reason: users.reason });
  const lastSignIn = new Map<string, number>();
  let firstEventAt: number | undefined;
  let lastRotationAt: number | undefined;
  let cursor: string | null = '';
  for (let page = 0; cursor !== null; page++) {
    if (page === AUDIT_PAGES_MAX) {
      const reason = `the audit log is longer than ${AUDIT_PAGES_MAX * 500} events`;
      notRun.push({ check: 'api.owners', reason }, { check: 'api.vault', reason });
      return [];
    }
    const query: string = `/api/v1/audit?limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const got: Got<{ events: AuditEvent[]; nextCursor: string | null }> = await get(io, url, key, query);
    if (!got.ok) {
      notRun.push({ check: 'api.owners', reason: got.reason }, { check: 'api.vault', reason: got.reason });
      return [];
    }
    for (const event of got.body.events) {
      firstEventAt ??= event.createdAt;
      if (event.kind === 'vault.rotated') lastRotationAt = event.createdAt;
      if (event.kind === 'auth.login.succeeded' && typeof event.data.userId === 'string')
        lastSignIn.set(event.data.userId, event.createdAt);
    }
    cursor = got.body.nextCursor;
  }
  const findings: Finding[] = [];
  if (users.ok)
    for (const user of users.body.users.filter((u) => u.role === 'owner')) {
      const at = lastSignIn.get(user.id);
      const days = at === undefined ? undefined : Math.floor((now - at) / DAY_MS);
      if (days === undefined || days >= OWNER_SIGNIN_DAYS)
        findings.push(
          finding(
            'api.owner.stale_signin',
            `owner ${quoteValue(user.id)} ${days === undefined ? 'has no sign-in in the audit log' : `last signed in ${days} days ago`}`,
          ),
        );
    }
  const since = lastRotationAt ?? firstEventAt;
  if (since !== undefined) {
    const days = Math.floor((now - since) / DAY_MS);
    if (days >= VAULT_KEY_ROTATION_DAYS)
      findings.push(
        finding(
          'api.vault.key_old',
          lastRotationAt === undefined
            ? `no vault rotation in the audit log, which starts ${days} days ago`
            : `the last vault rotation was ${days} days ago`,
        ),
      );
  }
  return findings;
}
