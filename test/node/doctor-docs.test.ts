/** docs/doctor.md lists every check with its id and severity, and nothing the code does not have. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CHECKS } from '../../cli/doctor/checks.ts';
import { DOCTOR_EXIT, DOCTOR_HELP } from '../../cli/doctor/index.ts';
import { REQUIRED_D1, REQUIRED_DURABLE_OBJECTS } from '../../cli/doctor/config.ts';
import { EXIT } from '../../cli/portcullis.ts';
import { ROTATE_EXIT } from '../../cli/vault-rotate.ts';

const read = (path: string) => readFileSync(fileURLToPath(new URL(`../../${path}`, import.meta.url)), 'utf8');
const DOC = read('docs/doctor.md');

/** Table rows of the form | `id` | severity | why | fix |. */
function documentedChecks(): Map<string, { severity: string; why: string; fix: string }> {
  const rows = new Map<string, { severity: string; why: string; fix: string }>();
  for (const match of DOC.matchAll(/^\| `([a-z_.]+)` \| (\w+) \| (.+?) \| (.+?) \|$/gm)) {
    expect(rows.has(match[1] ?? ''), `${match[1]} listed twice`).toBe(false);
    rows.set(match[1] ?? '', { severity: match[2] ?? '', why: match[3] ?? '', fix: match[4] ?? '' });
  }
  return rows;
}

describe('docs/doctor.md and the code', () => {
  it('list the same checks with the same severities', () => {
    const documented = documentedChecks();
    expect([...documented.keys()].sort()).toEqual(Object.keys(CHECKS).sort());
    for (const [id, spec] of Object.entries(CHECKS)) {
      expect(documented.get(id)?.severity, id).toBe(spec.severity);
      expect(documented.get(id)?.why, id).toBe(spec.why);
      expect(documented.get(id)?.fix, id).toBe(spec.fix);
    }
  });

  it('document every exit status, in the help and in the docs', () => {
    for (const code of Object.values(DOCTOR_EXIT)) {
      expect(DOCTOR_HELP).toMatch(new RegExp(`^  ${code}  `, 'm'));
      expect(DOC).toContain(`→ \`${code}\``);
    }
  });

  it('docs/cli.md has a row for every exit code of every command', () => {
    const cli = read('docs/cli.md');
    const rows = [...cli.matchAll(/^\| (`[a-z ]+`|all|\(bin\)) \| (\d+) \|/gm)].map((m) => `${m[1]} ${m[2]}`);
    const expected = [
      ...Object.values(EXIT)
        .filter((code) => code > 2)
        .map((code) => `\`compile\` ${code}`),
      ...Object.values(DOCTOR_EXIT)
        .filter((code) => code !== 0 && code !== 2)
        .map((code) => `\`doctor\` ${code}`),
      ...Object.values(ROTATE_EXIT)
        .filter((code) => code > 2)
        .map((code) => `\`vault rotate\` ${code}`),
      'all 0',
      'all 2',
      '(bin) 70',
    ];
    expect(rows.sort()).toEqual(expected.sort());
  });

  it('require exactly the bindings the Worker is typed with (src/env.generated.d.ts, from wrangler types)', () => {
    const env = read('src/env.generated.d.ts');
    const objects = Object.fromEntries(
      [...env.matchAll(/^\s+([A-Z_]+)\??: DurableObjectNamespace<import\("\.\/index"\)\.(\w+)>;/gm)].map((m) => [m[1], m[2]]),
    );
    expect(objects).toEqual(REQUIRED_DURABLE_OBJECTS);
    const d1 = [...env.matchAll(/^\s+([A-Z_]+): D1Database;/gm)].map((m) => m[1]);
    expect(d1).toEqual([...REQUIRED_D1]);
  });
});
