/**
 * The import rules of docs/architecture.md, checked over source text. Pure: takes files as
 * text, so the test can run it on the real tree and on small made-up trees that must fail.
 *
 * Each cross-folder import is judged by the folder of the importing file; first match wins
 * (the numbers are those of docs/architecture.md "Allowed imports"):
 * 1. an import inside one folder → allowed;
 * 2. a pure folder (src/lib, src/policy, src/protocol) importing a platform module (node:,
 *    cloudflare:, hono, drizzle-orm, @cloudflare/*) → denied;
 * 3. an import of another folder's insides instead of its index.ts → denied (the composition
 *    root src/*.ts may name Durable Object classes' files for their types; the CLI may name
 *    the settings parsers of SETTINGS_PARSERS, which rule 2 holds to the pure rule);
 * 4. the importer's row of the table below allows the target folder → allowed;
 * 5. anything else → denied.
 * Separately, any cycle between capability folders (type-only imports included) is reported.
 */
import ts from 'typescript';
import { posix } from 'node:path';

export interface SourceFile {
  /** Repository-relative path with forward slashes, e.g. `src/auth/authenticate.ts`. */
  path: string;
  text: string;
}

export interface Violation {
  file: string;
  specifier: string;
  rule: number | 'cycle';
  detail: string;
}

const PURE = new Set(['src/lib', 'src/policy', 'src/protocol']);
/**
 * Files that parse the gateway's own settings (VAULT_KEYS, RATE_LIMITS, TOOL_OPERATOR_ALLOW),
 * which `portcullis doctor` reads exactly as the gateway does: the CLI may import these by
 * path (rule 3), so they must stay pure (rule 2), as must what they import in their folder.
 */
export const SETTINGS_PARSERS: ReadonlySet<string> = new Set([
  'src/vault/keyring',
  'src/vault/problems',
  'src/ratelimit/policies',
  'src/tools/operator-allow',
]);
const PLATFORM = /^(node:|cloudflare:|hono(\/|$)|@hono\/|drizzle-orm(\/|$)|@cloudflare\/)/;
/** What each kind of folder may import besides itself (rule 4). `capability` = every other src/<folder>. */
const ALLOWED: Record<string, readonly string[]> = {
  'src/lib': [],
  'src/policy': ['src/lib'],
  'src/protocol': ['src/lib', 'src/policy'],
  'src/db': ['src/lib'],
  'src/http': ['src/lib', 'root:type'],
  capability: ['src/lib', 'src/policy', 'src/protocol', 'src/db', 'src/http', 'root:type', 'capability'],
  root: ['*'],
  'containers/runner': ['src/lib', 'src/policy', 'src/protocol'],
  cli: ['src/lib', 'src/policy', 'src/protocol'],
};
const LAYERS = new Set(['src/lib', 'src/policy', 'src/protocol', 'src/db', 'src/http']);

/** The folder a repository path belongs to: `src/<dir>`, `root` (src/*.ts), `containers/runner`, `cli`, or `outside`. */
export function folderOf(path: string): string {
  const parts = path.split('/');
  if (parts[0] === 'src') return parts.length === 2 ? 'root' : `src/${parts[1]}`;
  if (parts[0] === 'containers' && parts[1] === 'runner') return 'containers/runner';
  if (parts[0] === 'cli') return 'cli';
  return 'outside';
}

function kindOf(folder: string): string {
  return folder.startsWith('src/') && !LAYERS.has(folder) ? 'capability' : folder;
}

interface ImportRef {
  specifier: string;
  typeOnly: boolean;
}

function importsOf(file: SourceFile): ImportRef[] {
  const source = ts.createSourceFile(file.path, file.text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const refs: ImportRef[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly = Boolean(
        clause?.isTypeOnly || (clause && !clause.name && named && named.length > 0 && named.every((e) => e.isTypeOnly)),
      );
      refs.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      refs.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      node.expression.kind === ts.SyntaxKind.ImportKeyword &&
      node.arguments[0] &&
      ts.isStringLiteral(node.arguments[0])
    ) {
      refs.push({ specifier: node.arguments[0].text, typeOnly: false });
    } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument) && ts.isStringLiteral(node.argument.literal)) {
      refs.push({ specifier: node.argument.literal.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return refs;
}

/** Repository path an import names, without extension; a folder stands for its index. */
function targetOf(from: string, specifier: string, known: ReadonlySet<string>): string {
  const joined = posix.normalize(posix.join(posix.dirname(from), specifier)).replace(/\.(ts|mts|js|mjs)$/, '');
  return known.has(joined) ? joined : known.has(`${joined}/index`) ? `${joined}/index` : joined;
}

function isIndexOf(target: string, folder: string): boolean {
  return target === `${folder}/index` || (folder === 'containers/runner' && target === 'containers/runner/src/index');
}

export function checkArchitecture(files: readonly SourceFile[]): Violation[] {
  const known = new Set(files.map((f) => f.path.replace(/\.(ts|mts|js|mjs)$/, '')));
  const violations: Violation[] = [];
  const edges = new Map<string, Set<string>>();
  for (const file of files) {
    const from = folderOf(file.path);
    const kind = kindOf(from);
    for (const { specifier, typeOnly } of importsOf(file)) {
      if (!specifier.startsWith('.')) {
        // 2. pure folders stay pure
        const pure = PURE.has(from) || SETTINGS_PARSERS.has(file.path.replace(/\.(ts|mts|js|mjs)$/, ''));
        if (pure && PLATFORM.test(specifier))
          violations.push({
            file: file.path,
            specifier,
            rule: 2,
            detail: `${pure && !PURE.has(from) ? file.path : from} is pure: no platform import`,
          });
        continue;
      }
      const target = targetOf(file.path, specifier, known);
      const to = folderOf(target);
      if (to === from) {
        // 1 (a settings parser may import only the other settings parsers of its folder, so it stays pure)
        if (SETTINGS_PARSERS.has(file.path.replace(/\.(ts|mts|js|mjs)$/, '')) && !SETTINGS_PARSERS.has(target))
          violations.push({
            file: file.path,
            specifier,
            rule: 2,
            detail: `${file.path} is a settings parser: it may import only pure code`,
          });
        continue;
      }
      if (kind === 'cli' && SETTINGS_PARSERS.has(target)) continue; // 3 (the CLI reads settings as the gateway does)
      if (to !== 'root' && to !== 'outside' && kind !== 'root' && !isIndexOf(target, to)) {
        violations.push({ file: file.path, specifier, rule: 3, detail: `import the index.ts of ${to}, not its insides` }); // 3
        continue;
      }
      const allowed = ALLOWED[kind] ?? [];
      const ok =
        allowed.includes('*') ||
        allowed.includes(to) ||
        (to === 'root' && typeOnly && allowed.includes('root:type') && target === 'src/env') ||
        (kindOf(to) === 'capability' && allowed.includes('capability'));
      if (!ok) {
        violations.push({
          file: file.path,
          specifier,
          rule: 5,
          detail: `${from} may not import ${to}${to === 'root' ? ` (${target})` : ''}`,
        }); // 5
        continue;
      }
      if (kind === 'capability' && kindOf(to) === 'capability') edges.set(from, (edges.get(from) ?? new Set()).add(to)); // 4
    }
  }
  for (const cycle of cyclesOf(edges)) violations.push({ file: cycle[0] ?? '', specifier: '', rule: 'cycle', detail: cycle.join(' -> ') });
  return violations;
}

/** One cycle per strongly connected component of more than one folder (Tarjan), written as a closed path. */
function cyclesOf(edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;
  const strongConnect = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        strongConnect(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w !== undefined) {
          onStack.delete(w);
          component.push(w);
        }
      } while (w !== undefined && w !== v);
      if (component.length > 1) components.push(component.sort());
    }
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) strongConnect(v);
  return components.map((component) => [...component, component[0] ?? '']);
}
