/** How doctor's result is shown: text grouped by severity (colour on a terminal), or one JSON object. */
import { styleText } from 'node:util';
import { type Finding, type NotRun, SEVERITIES, type Severity } from './checks.ts';
import type { FixOutcome } from './fix.ts';

export interface DoctorResult {
  findings: Finding[];
  notRun: NotRun[];
  skipped: string[];
  fix?: FixOutcome;
  exitCode: number;
}

const COLOUR: Record<Severity, Parameters<typeof styleText>[0]> = {
  critical: ['bold', 'red'],
  high: 'red',
  medium: 'yellow',
  low: 'cyan',
  info: 'gray',
};

export function summary(findings: readonly Finding[]): Record<Severity, number> {
  return Object.fromEntries(SEVERITIES.map((severity) => [severity, findings.filter((f) => f.severity === severity).length])) as Record<
    Severity,
    number
  >;
}

export function renderJson(result: DoctorResult): string {
  return `${JSON.stringify({ findings: result.findings, notRun: result.notRun, skipped: result.skipped, ...(result.fix ? { fix: result.fix } : {}), summary: summary(result.findings), exitCode: result.exitCode }, null, 2)}\n`;
}

export function renderText(result: DoctorResult, colour: boolean): string {
  // The caller decided (TTY, NO_COLOR); styleText would otherwise check process.stdout itself.
  const paint = (style: Parameters<typeof styleText>[0], text: string) =>
    colour ? styleText(style, text, { validateStream: false }) : text;
  const out: string[] = [];
  for (const severity of SEVERITIES) {
    const group = result.findings.filter((f) => f.severity === severity);
    if (group.length === 0) continue;
    out.push(paint(COLOUR[severity], `${severity.toUpperCase()} (${group.length})`));
    for (const f of group) out.push(`  ${paint('bold', f.id)}  ${f.seen}`, `    fix: ${f.fix}`);
  }
  if (result.fix) {
    if (result.fix.changed.length) out.push('Changed by --fix:', ...result.fix.changed.map((line) => `  ${line}`));
    if (result.fix.refused.length) out.push('Refused by --fix:', ...result.fix.refused.map((line) => `  ${line}`));
  }
  if (result.notRun.length)
    out.push(paint(['bold', 'magenta'], 'Could not run:'), ...result.notRun.map((n) => `  ${n.check}: ${n.reason}`));
  if (result.skipped.length) out.push('Not requested:', ...result.skipped.map((line) => `  ${line}`));
  const counts = summary(result.findings);
  out.push(
    `${SEVERITIES.map((s) => `${counts[s]} ${s}`).join(', ')}; ${result.notRun.length} could not run. Every id is explained in docs/doctor.md.`,
  );
  return `${out.join('\n')}\n`;
}
