/**
 * Offline checks of the deployed configuration (wrangler.toml). Rate limits and operator
 * allowances are read with the gateway's own parsers, so doctor and the gateway agree on
 * what a value means.
 */
import { parse as parseToml } from 'smol-toml';
import { quoteValue } from '../../src/policy/index.ts';
import { DEFAULT_POLICIES, loadPolicyTable, POLICY_NAMES, type PolicyName } from '../../src/ratelimit/policies.ts';
import { operatorAllowFrom } from '../../src/tools/operator-allow.ts';
import { finding, type Finding } from './checks.ts';

type Table = Record<string, unknown>;
export type WranglerConfig = Table;

/** Bindings src/env.ts declares as required, with the Durable Object class each one names. */
export const REQUIRED_D1 = ['DB'] as const;
export const REQUIRED_DURABLE_OBJECTS: Readonly<Record<string, string>> = {
  AUDIT_LOG: 'AuditLog',
  RATE_LIMITER: 'RateLimiter',
  WEBHOOK_DEDUPE: 'WebhookDedupe',
  CONNECTOR_CACHE: 'ConnectorRecordCache',
  TOOL_SANDBOX: 'ToolSandbox',
  TOOL_CONCURRENCY: 'ToolConcurrency',
  CONVERSATION: 'Conversation',
  EVENT_HUB: 'EventHub',
};
/** Names of the gateway's secrets; any other name that ends like a secret counts too. */
export const SECRET_NAMES = ['SETUP_TOKEN', 'VAULT_KEYS', 'RUNNER_SECRET'] as const;
const SECRET_SHAPED = /(SECRET|TOKEN|PASSWORD|PASSPHRASE|PRIVATE_KEY|_KEYS?)$/;
/** A limit raised past this multiple of its default rate is reported. */
export const RATE_RAISE_FACTOR = 10;
const AUTH_POLICIES: readonly PolicyName[] = ['auth-ip', 'login-failures', 'login-failures-account'];
/** compatibility_date older than this is stale. */
export const COMPAT_DATE_MAX_AGE_DAYS = 365;
const DAY_MS = 86_400_000;

export function parseWranglerToml(text: string): WranglerConfig {
  return parseToml(text) as WranglerConfig;
}

const tableOf = (value: unknown): Table => (value && typeof value === 'object' && !Array.isArray(value) ? (value as Table) : {});
const listOf = (value: unknown): Table[] => (Array.isArray(value) ? value.map(tableOf) : []);

/** Every `[vars]` table with a label: the top level, then each `[env.NAME.vars]`. */
export function varTables(config: WranglerConfig): { label: string; vars: Table }[] {
  const tables = [{ label: '[vars]', vars: tableOf(config.vars) }];
  for (const [name, env] of Object.entries(tableOf(config.env)))
    tables.push({ label: `[env.${quoteValue(name)}.vars]`, vars: tableOf(tableOf(env).vars) });
  return tables;
}

export function isSecretName(name: string): boolean {
  return (SECRET_NAMES as readonly string[]).includes(name) || SECRET_SHAPED.test(name);
}

/** `DANGEROUSLY_*` variables set to anything but false/empty (the gateway reads "true"; any other value is a mistake waiting to be "fixed"). */
export function dangerousFlags(vars: Table): string[] {
  return Object.entries(vars)
    .filter(([name, value]) => name.startsWith('DANGEROUSLY_') && !['', 'false', '0'].includes(String(value).trim().toLowerCase()))
    .map(([name]) => name);
}

/**
 * An operator allowance entry is one host and one port. Wider: a wildcard, a CIDR range,
 * no port, or a whole address family. Entries the gateway cannot read are ignored by it.
 */
export function operatorAllowProblems(label: string, name: string, raw: string): Finding[] {
  const findings: Finding[] = [];
  for (const entry of raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const host = entry.replace(/:\d{1,5}$/, '').replace(/^\[|\]$/g, '');
    if (/[*/]/.test(entry) || ['0.0.0.0', '::', 'localhost.', '.'].includes(host) || host.startsWith('.')) {
      findings.push(finding('config.operator_allow.wide', `${label} ${name} entry ${quoteValue(entry)} is wider than one host`));
    } else if (name === 'TOOL_OPERATOR_ALLOW' && operatorAllowFrom(entry).length === 0) {
      findings.push(
        finding('config.operator_allow.malformed', `${label} ${name} entry ${quoteValue(entry)} is not host:port; the gateway ignores it`),
      );
    }
  }
  return findings;
}

function rateLimitProblems(label: string, raw: string): Finding[] {
  const table = loadPolicyTable(raw);
  if (!table.ok) return [finding('config.ratelimit.invalid', `${label} RATE_LIMITS: ${table.problem}`)];
  const findings: Finding[] = [];
  for (const name of POLICY_NAMES) {
    const given = table.policies[name];
    const base = DEFAULT_POLICIES[name];
    const factor = given.limit / given.windowS / (base.limit / base.windowS);
    if (factor <= RATE_RAISE_FACTOR) continue;
    const seen = `${label} RATE_LIMITS ${name} is ${given.limit}/${given.windowS}s, ${Math.round(factor)}× the default ${base.limit}/${base.windowS}s`;
    findings.push(finding(AUTH_POLICIES.includes(name) ? 'config.ratelimit.auth_raised' : 'config.ratelimit.raised', seen));
  }
  return findings;
}

function varsProblems(label: string, vars: Table, production: boolean): Finding[] {
  const findings: Finding[] = [];
  for (const name of Object.keys(vars)) {
    if (isSecretName(name) && String(vars[name]).trim() !== '')
      findings.push(finding('config.secret.in_vars', `${quoteValue(name)} has a value in ${label}`));
  }
  for (const name of dangerousFlags(vars)) findings.push(finding('config.flag.dangerous', `${quoteValue(name)} is set in ${label}`));
  for (const name of ['TOOL_OPERATOR_ALLOW', 'MODEL_PRIVATE_HOSTS']) {
    if (typeof vars[name] === 'string') findings.push(...operatorAllowProblems(label, name, vars[name]));
  }
  if (typeof vars.RATE_LIMITS === 'string') findings.push(...rateLimitProblems(label, vars.RATE_LIMITS));
  if (production) {
    const executor = vars.TOOL_EXECUTOR;
    if (executor === 'local') findings.push(finding('config.executor.local', `TOOL_EXECUTOR = "local" in ${label}`));
    else if (executor !== 'container')
      findings.push(
        finding(
          'config.executor.unset',
          executor === undefined ? `TOOL_EXECUTOR is not set in ${label}` : `TOOL_EXECUTOR in ${label} is neither "container" nor "local"`,
        ),
      );
  }
  return findings;
}

/**
 * Checks of one wrangler.toml, in this order: [vars] tables (secrets, dangerous flags,
 * allowances, rate limits, executor), compatibility, bindings, migrations, containers.
 */
export function checkWranglerConfig(config: WranglerConfig, now: number): Finding[] {
  const findings: Finding[] = [];
  for (const { label, vars } of varTables(config)) findings.push(...varsProblems(label, vars, true));

  const flags = Array.isArray(config.compatibility_flags) ? config.compatibility_flags.map(String) : [];
  if (!flags.includes('nodejs_compat'))
    findings.push(finding('config.compat.nodejs_compat', 'compatibility_flags does not include "nodejs_compat"'));
  const date = typeof config.compatibility_date === 'string' ? Date.parse(`${config.compatibility_date}T00:00:00Z`) : Number.NaN;
  if (Number.isNaN(date)) findings.push(finding('config.compat.date_stale', 'compatibility_date is missing or not YYYY-MM-DD'));
  else if (now - date > COMPAT_DATE_MAX_AGE_DAYS * DAY_MS)
    findings.push(
      finding(
        'config.compat.date_stale',
        `compatibility_date ${quoteValue(String(config.compatibility_date))} is ${Math.floor((now - date) / DAY_MS)} days old`,
      ),
    );

  const d1 = new Set(listOf(config.d1_databases).map((db) => db.binding));
  for (const binding of REQUIRED_D1)
    if (!d1.has(binding)) findings.push(finding('config.binding.missing', `no [[d1_databases]] with binding "${binding}"`));
  const objects = new Map(listOf(tableOf(config.durable_objects).bindings).map((b) => [b.name, b.class_name]));
  const migrated = new Set(
    listOf(config.migrations).flatMap((m) =>
      [m.new_sqlite_classes, m.new_classes].flatMap((list) => (Array.isArray(list) ? list.map(String) : [])),
    ),
  );
  for (const [binding, className] of Object.entries(REQUIRED_DURABLE_OBJECTS)) {
    if (objects.get(binding) !== className)
      findings.push(finding('config.binding.missing', `no [[durable_objects.bindings]] "${binding}" for class ${className}`));
    if (!migrated.has(className)) findings.push(finding('config.migration.missing', `no [[migrations]] creates class ${className}`));
  }

  for (const container of listOf(config.containers)) {
    for (const [key, value] of Object.entries(container)) {
      if (/internet/i.test(key) && value !== false && value !== 'false')
        findings.push(
          finding('config.container.internet', `[[containers]] ${quoteValue(String(container.class_name ?? '?'))} sets ${quoteValue(key)}`),
        );
    }
  }
  return findings;
}

/** The [vars] checks for an env file's values (local development: never a production config). */
export function checkEnvFileVars(values: Record<string, string>): Finding[] {
  return varsProblems('the env file', values, false).filter((f) => f.id !== 'config.secret.in_vars');
}
