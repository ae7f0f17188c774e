/** Operator configuration (TOOL_OPERATOR_ALLOW, `host:port,…`): private destinations sandboxed tools may reach. Never from a manifest. */
import type { EgressRule } from '../policy';

export function operatorAllowFrom(raw: string | undefined): EgressRule[] {
  if (!raw) return [];
  const rules: EgressRule[] = [];
  for (const entry of raw
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)) {
    const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(entry);
    const port = Number(match?.[2]);
    // A malformed entry opens nothing (fail closed) rather than something unexpected.
    if (!match?.[1] || !Number.isInteger(port) || port < 1 || port > 65535) continue;
    rules.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
  }
  return rules;
}
