/**
 * RFC 8785 (JSON Canonicalization Scheme) for the values Portcullis hashes: audit events
 * and tool manifests. Pure and dependency-free so src/policy/ can share it.
 *
 * - Object keys sorted by UTF-16 code units (RFC 8785 §3.2.3), which is what
 *   Array.prototype.sort does on strings by default.
 * - Numbers serialised as ECMAScript Number.prototype.toString (§3.2.2.3), which is what
 *   JSON.stringify does for finite numbers; non-finite numbers are not JSON and throw.
 * - Strings escaped as JSON.stringify does, which matches §3.2.2.2.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonicalJson: non-finite number');
      return JSON.stringify(value);
    case 'string':
      return JSON.stringify(value);
    case 'object': {
      if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
      const record = value as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((key) => record[key] !== undefined)
        .sort();
      return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`).join(',')}}`;
    }
    default:
      throw new TypeError(`canonicalJson: ${typeof value} is not JSON`);
  }
}
