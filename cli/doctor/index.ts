/**
 * `portcullis doctor`: tells an operator plainly when a deployment is unsafe. Offline checks
 * of wrangler.toml and an env file, live checks of a running gateway, and with
 * PORTCULLIS_API_KEY (never argv, which the process list shows) checks of what the key's
 * workspace holds. docs/doctor.md lists every check.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseCommandArgs } from '../args.ts';
import { checkApi } from './api.ts';
import { type Finding, type NotRun, SEVERITIES } from './checks.ts';
import { checkEnvFileVars, checkWranglerConfig, parseWranglerToml, varTables } from './config.ts';
import { fixEnvFile, type FixOutcome, fixWranglerToml } from './fix.ts';
import { checkLive, isLoopback } from './live.ts';
import { type DoctorResult, renderJson, renderText } from './report.ts';
import { checkSecrets, envFilePermissionProblem, parseEnvFile } from './secrets.ts';

/**
 * Exit status, first that applies:
 * 1. usage error (unknown option, bad --url, nothing to check) → 2;
 * 2. a finding of severity high or critical → 1 (a known hole outranks an unknown);
 * 3. a requested check could not run → 3 (the output says which and why);
 * 4. otherwise → 0.
 */
export const DOCTOR_EXIT = { OK: 0, FINDINGS: 1, USAGE: 2, NOT_RUN: 3 } as const;

export const DOCTOR_HELP = `Usage: portcullis doctor [--config wrangler.toml] [--env-file .dev.vars] [--url https://…] [--json] [--fix]

Checks a deployment for unsafe settings and prints each finding with its id, severity,
what was seen (never a secret value) and the fix.

  --config PATH     wrangler.toml to check (default: ./wrangler.toml when it exists)
  --env-file PATH   env file with secrets (e.g. .dev.vars): presence, strength, permissions
  --url URL         a running gateway (https; http only for localhost): headers, CORS, setup, /healthz
                    With PORTCULLIS_API_KEY set (an owner's key with admin and audit:read), also
                    agents, tools, credentials, API keys and the audit chain of the key's workspace.
  --json            one JSON object on stdout: {findings, notRun, skipped, fix?, summary, exitCode}
  --fix             tighten local files only (chmod 600 the env file, remove DANGEROUSLY_* lines,
                    each edit after a backup); never rotates or prints a secret
  -h, --help        show this help

Exit codes:
  0  nothing high or critical found, and every requested check ran
  1  at least one high or critical finding
  2  usage error
  3  a requested check could not run (and nothing high or critical was found)

Every check, why it matters and its fix: docs/doctor.md.
`;

const DOCTOR_OPTIONS = {
  config: { type: 'string' },
  'env-file': { type: 'string' },
  url: { type: 'string' },
  json: { type: 'boolean' },
  fix: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface DoctorIo {
  fetch: typeof fetch;
  env: Record<string, string | undefined>;
  now: () => number;
  stdout(text: string): void;
  stderr(text: string): void;
  colour: boolean;
}

export function exitCodeOf(findings: readonly Finding[], notRun: readonly NotRun[]): number {
  if (findings.some((f) => f.severity === 'critical' || f.severity === 'high')) return DOCTOR_EXIT.FINDINGS;
  if (notRun.length > 0) return DOCTOR_EXIT.NOT_RUN;
  return DOCTOR_EXIT.OK;
}

function usage(io: DoctorIo, json: boolean, message: string): number {
  if (json) io.stdout(`${JSON.stringify({ errors: [{ code: 'USAGE', path: '(arguments)', message }] })}\n`);
  io.stderr(`portcullis doctor: ${message}\nTry 'portcullis doctor --help'.\n`);
  return DOCTOR_EXIT.USAGE;
}

const readError = (error: unknown): string => (error as { code?: string }).code ?? (error as Error).message.split('\n')[0] ?? 'error';

export async function doctor(args: string[], io: DoctorIo): Promise<number> {
  const json = args.includes('--json');
  const parsed = parseCommandArgs(args, DOCTOR_OPTIONS, 0);
  if (!parsed.ok) return usage(io, json, parsed.error);
  const values = parsed.values as { config?: string; 'env-file'?: string; url?: string; json?: boolean; fix?: boolean; help?: boolean };
  if (values.help) {
    io.stdout(DOCTOR_HELP);
    return DOCTOR_EXIT.OK;
  }
  let url: URL | undefined;
  if (values.url !== undefined) {
    url = URL.parse(values.url) ?? undefined;
    if (!url || !(url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url))))
      return usage(io, json, '--url must be the gateway origin over https (http only for localhost)');
  }
  const configPath = values.config ?? (existsSync('wrangler.toml') ? 'wrangler.toml' : undefined);
  const envPath = values['env-file'];
  if (!configPath && !envPath && !url) return usage(io, json, 'nothing to check: no ./wrangler.toml; give --config, --env-file or --url');

  const findings: Finding[] = [];
  const notRun: NotRun[] = [];
  const skipped: string[] = [];
  let fix: FixOutcome | undefined;
  // --fix first, so the findings describe the files as they are now.
  if (values.fix) {
    fix = { changed: [], refused: [] };
    for (const [path, apply] of [
      [configPath, fixWranglerToml],
      [envPath, fixEnvFile],
    ] as const) {
      if (!path) continue;
      try {
        apply(path, fix);
      } catch (error) {
        fix.refused.push(`${path}: not changed (${readError(error)})`);
      }
    }
  }

  let toolsConfigured = false;
  if (configPath) {
    try {
      const config = parseWranglerToml(readFileSync(configPath, 'utf8'));
      findings.push(...checkWranglerConfig(config, io.now()));
      toolsConfigured = varTables(config).some(({ vars }) => typeof vars.TOOL_EXECUTOR === 'string' && vars.TOOL_EXECUTOR !== '');
    } catch (error) {
      notRun.push({ check: 'config', reason: `${configPath}: ${readError(error)}` });
    }
  }
  if (envPath) {
    try {
      const envValues = parseEnvFile(readFileSync(envPath, 'utf8'));
      const permissions = envFilePermissionProblem(envPath);
      if (permissions) findings.push(permissions);
      findings.push(...checkEnvFileVars(envValues));
      findings.push(...(await checkSecrets(envValues, toolsConfigured || Boolean(envValues.TOOL_EXECUTOR))));
    } catch (error) {
      notRun.push({ check: 'secrets', reason: `${envPath}: ${readError(error)}` });
    }
  } else skipped.push('secrets: no --env-file (deployed secrets cannot be read; check the file you put them from)');

  if (url) {
    const live = await checkLive(url, io);
    findings.push(...live.findings);
    notRun.push(...live.notRun);
    const key = io.env.PORTCULLIS_API_KEY;
    if (!key) skipped.push('api: PORTCULLIS_API_KEY is not set');
    else if (live.notRun.some((n) => n.check === 'live')) notRun.push({ check: 'api', reason: 'the gateway did not answer' });
    else {
      const api = await checkApi(url, key, io, io.now());
      findings.push(...api.findings);
      notRun.push(...api.notRun);
    }
  } else skipped.push('live: no --url');

  findings.sort((a, b) => SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity));
  const uniqueNotRun = notRun.filter((n, i) => notRun.findIndex((m) => m.check === n.check && m.reason === n.reason) === i);
  const result: DoctorResult = {
    findings,
    notRun: uniqueNotRun,
    skipped,
    ...(fix ? { fix } : {}),
    exitCode: exitCodeOf(findings, uniqueNotRun),
  };
  io.stdout(json ? renderJson(result) : renderText(result, io.colour));
  return result.exitCode;
}
