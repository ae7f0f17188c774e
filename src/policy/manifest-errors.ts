/**
 * Manifest shape errors in words: which key, what was expected, what was found. zod finds
 * the first problem; this turns its issue into a PolicyError whose path names the key
 * itself (`tools.0.capabilites`, not `tools.0`) and whose message says what is allowed.
 */
import type { z } from 'zod';
import { escapeText, type PolicyError, policyError, quoteValue } from './errors';

export const ROOT_KEYS = [
  '$schema',
  '$comment',
  'name',
  'version',
  'grammar',
  'description',
  'title',
  'homepage',
  'repository',
  'license',
  'author',
  'keywords',
  'serverCapabilities',
  'tools',
];
export const TOOL_KEYS = ['name', 'title', 'description', '$comment', 'annotations', 'capabilities', 'inputSchema', 'run'];

function allowedKeysAt(path: PropertyKey[]): string[] | null {
  if (path.length === 0) return ROOT_KEYS;
  if (path.length === 2 && path[0] === 'tools') return TOOL_KEYS;
  if (path.length === 3 && path[0] === 'tools' && path[2] === 'run') return ['argv', 'mcp'];
  if (path.length === 4 && path[2] === 'run' && path[3] === 'mcp') return ['command', 'tool'];
  return null;
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The path as text; a key is escaped like a value, so a path never carries a control character. */
const dotted = (path: PropertyKey[]) => (path.length === 0 ? '(root)' : path.map((key) => escapeText(String(key)).slice(0, 120)).join('.'));

export function shapeError(issue: z.core.$ZodIssue | undefined, input: unknown): PolicyError {
  if (!issue) return policyError('MANIFEST_SHAPE', '(root)', undefined);
  const path = issue.path;
  const value = valueAt(input, path);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const key = issue.keys[0] ?? '';
      const allowed = allowedKeysAt(path);
      const where = path.length === 0 ? 'the manifest' : dotted(path);
      return policyError(
        'MANIFEST_SHAPE',
        dotted([...path, key]),
        undefined,
        `unknown key ${quoteValue(key)} in ${where}${allowed ? `; allowed keys: ${allowed.join(', ')}` : ''}. Unknown keys are refused so that a misspelt permission is never ignored.`,
      );
    }
    case 'invalid_type':
      if (value === undefined)
        return policyError('MANIFEST_SHAPE', dotted(path), undefined, `${dotted(path)} is required (${issue.expected}).`);
      return policyError('MANIFEST_SHAPE', dotted(path), value, `expected ${issue.expected}, found ${typeName(value)}.`);
    case 'too_big':
      return policyError(
        'MANIFEST_SHAPE',
        dotted(path),
        value,
        `at most ${String(issue.maximum)} ${issue.origin === 'string' ? 'characters' : 'entries'} are allowed here.`,
      );
    case 'too_small':
      return policyError(
        'MANIFEST_SHAPE',
        dotted(path),
        value,
        `at least ${String(issue.minimum)} ${issue.origin === 'string' ? 'characters' : 'entries'} are needed here.`,
      );
    case 'invalid_format':
      return policyError(
        'MANIFEST_SHAPE',
        dotted(path),
        value,
        `the value does not match ${'pattern' in issue && issue.pattern ? String(issue.pattern) : issue.format}.`,
      );
    case 'invalid_union':
      if (path.at(-1) === 'run')
        return policyError(
          'MANIFEST_SHAPE',
          dotted(path),
          value,
          'run is either {"argv": [...]} or {"mcp": {"command": [...], "tool": "..."}}.',
        );
      return policyError('MANIFEST_SHAPE', dotted(path), value, 'the value has none of the allowed shapes.');
    default:
      return policyError('MANIFEST_SHAPE', dotted(path), value, `${issue.message}.`);
  }
}
