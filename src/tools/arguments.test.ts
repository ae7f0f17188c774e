import { describe, expect, it } from 'vitest';
import { allowlistCovers, globMatches, substituteArgv, validateArguments } from './arguments';
import {
  ARGUMENT_ARRAY_MAX_ITEMS,
  ARGUMENT_KEY_MAX_CHARS,
  ARGUMENT_OBJECT_MAX_PROPERTIES,
  ARGUMENT_STRING_MAX_CHARS,
  ARGUMENTS_MAX_BYTES,
  ARGUMENTS_MAX_DEPTH,
} from './argument-limits';
import { INPUT_SCHEMA_MAX_SUBSCHEMAS, inputSchemaProblem, type Schema } from './input-schema';

/** [] when valid, else the violation paths; throws on any other outcome so a test cannot pass by accident. */
function fieldsOf(schema: Schema | undefined, args: Record<string, unknown>): string[] {
  const check = validateArguments(schema, args);
  if (check.ok) return [];
  if (check.kind !== 'invalid') throw new Error(`unexpected ${check.kind}`);
  return check.fields;
}

describe('substituteArgv: never a shell, each element stays one element', () => {
  it.each([
    [['cat', '{path}'], { path: 'a b; rm -rf /' }, ['cat', 'a b; rm -rf /']],
    [['grep', '--', '{pattern}', '{file}'], { pattern: '$(id)', file: '`x`' }, ['grep', '--', '$(id)', '`x`']],
    [['echo', 'n={n}', '{flag}'], { n: 3, flag: true }, ['echo', 'n=3', 'true']],
  ])('%j with %j', (argv, args, expected) => {
    expect(substituteArgv(argv, args)).toEqual(expected);
  });

  it.each([
    ['a missing argument', { other: 'x' }],
    ['an object argument', { path: { toString: 'x' } }],
    ['an array argument', { path: ['a', 'b'] }],
    ['null', { path: null }],
  ])('refuses %s', (_label, args) => {
    expect(substituteArgv(['cat', '{path}'], args)).toBeNull();
  });

  it('does not read inherited properties as arguments', () => {
    expect(substituteArgv(['x', '{constructor}'], {})).toBeNull();
  });
});

describe('validateArguments (JSON Schema subset, @cfworker/json-schema)', () => {
  const schema = {
    type: 'object',
    properties: {
      path: { type: 'string', pattern: '^/workspace/', maxLength: 20 },
      n: { type: 'integer', minimum: 1, maximum: 5 },
      mode: { enum: ['r', 'w'] },
    },
    required: ['path'],
  };
  it.each([
    [{ path: '/workspace/a' }, []],
    [{ path: '/etc/passwd' }, ['arguments.path']],
    [{ path: '/workspace/a', n: 0 }, ['arguments.n']],
    [{ path: '/workspace/a', n: 1.5 }, ['arguments.n']],
    [{ path: '/workspace/a', mode: 'x' }, ['arguments.mode']],
    [{ path: '/workspace/a', extra: 1 }, ['arguments.extra']],
    [{}, ['arguments.path']],
  ])('%j → %j', (args, expected) => {
    expect(fieldsOf(schema, args)).toEqual(expected);
  });

  it('a tool without inputSchema takes no arguments', () => {
    expect(fieldsOf(undefined, {})).toEqual([]);
    expect(fieldsOf(undefined, { a: 1 })).toEqual(['arguments']);
  });

  // Every keyword of the subset keeps the behaviour of the hand-written validator it replaces
  // (each row was also run against that validator at the parent commit: same answer).
  const p = (sub: Schema) => ({ type: 'object', properties: { v: sub } });
  it.each([
    ['type string', p({ type: 'string' }), { v: 'x' }, []],
    ['type string, number given', p({ type: 'string' }), { v: 1 }, ['arguments.v']],
    ['type number', p({ type: 'number' }), { v: 1.5 }, []],
    ['type number, string given', p({ type: 'number' }), { v: '1' }, ['arguments.v']],
    ['type integer', p({ type: 'integer' }), { v: 2 }, []],
    ['type integer, 2.0 is an integer', p({ type: 'integer' }), { v: 2.0 }, []],
    ['type integer, fraction', p({ type: 'integer' }), { v: 2.5 }, ['arguments.v']],
    ['type boolean', p({ type: 'boolean' }), { v: false }, []],
    ['type boolean, 0 given', p({ type: 'boolean' }), { v: 0 }, ['arguments.v']],
    ['type null', p({ type: 'null' }), { v: null }, []],
    ['type array, object given', p({ type: 'array' }), { v: {} }, ['arguments.v']],
    ['type object, array given', p({ type: 'object' }), { v: [] }, ['arguments.v']],
    ['type list', p({ type: ['string', 'null'] }), { v: null }, []],
    ['type list, no member', p({ type: ['string', 'null'] }), { v: 1 }, ['arguments.v']],
    ['root type object', { type: 'object' }, {}, []],
    ['required present', { type: 'object', properties: { a: {}, b: {} }, required: ['a', 'b'] }, { a: 1, b: 2 }, []],
    ['required, two missing', { type: 'object', properties: { a: {}, b: {} }, required: ['a', 'b'] }, {}, ['arguments.a', 'arguments.b']],
    ['undeclared refused by default', { type: 'object', properties: {} }, { z: 1 }, ['arguments.z']],
    ['additionalProperties false', { type: 'object', properties: {}, additionalProperties: false }, { z: 1 }, ['arguments.z']],
    ['additionalProperties true', { type: 'object', properties: {}, additionalProperties: true }, { z: { deep: [1] } }, []],
    ['nested object, undeclared', p({ type: 'object', properties: { a: { type: 'string' } } }), { v: { a: 'x', b: 1 } }, ['arguments.v.b']],
    ['nested object, wrong type', p({ type: 'object', properties: { a: { type: 'string' } } }), { v: { a: 1 } }, ['arguments.v.a']],
    ['nested required', p({ type: 'object', properties: { a: {} }, required: ['a'] }), { v: {} }, ['arguments.v.a']],
    ['items', p({ type: 'array', items: { type: 'string' } }), { v: ['a', 'b'] }, []],
    ['items, second wrong', p({ type: 'array', items: { type: 'string' } }), { v: ['a', 2] }, ['arguments.v.1']],
    [
      'items of objects, undeclared',
      p({ type: 'array', items: { type: 'object', properties: {} } }),
      { v: [{ x: 1 }] },
      ['arguments.v.0.x'],
    ],
    ['enum', p({ enum: ['r', 1, null] }), { v: 1 }, []],
    ['enum, no member', p({ enum: ['r', 1, null] }), { v: '1' }, ['arguments.v']],
    ['const', p({ const: 'x' }), { v: 'x' }, []],
    ['const, other', p({ const: 'x' }), { v: 'y' }, ['arguments.v']],
    ['minLength counts code points', p({ type: 'string', minLength: 2 }), { v: '😀' }, ['arguments.v']],
    ['maxLength counts code points', p({ type: 'string', maxLength: 1 }), { v: '😀' }, []],
    ['maxLength', p({ type: 'string', maxLength: 2 }), { v: 'abc' }, ['arguments.v']],
    ['pattern (u flag)', p({ type: 'string', pattern: '^\\p{Lu}$' }), { v: 'Ä' }, []],
    ['pattern, no match', p({ type: 'string', pattern: '^[a-z]+$' }), { v: 'a1' }, ['arguments.v']],
    ['pattern is a search, not a full match', p({ type: 'string', pattern: 'b' }), { v: 'abc' }, []],
    ['minimum', p({ type: 'number', minimum: 1 }), { v: 0.5 }, ['arguments.v']],
    ['maximum inclusive', p({ type: 'number', maximum: 1 }), { v: 1 }, []],
    ['maximum', p({ type: 'number', maximum: 1 }), { v: 1.5 }, ['arguments.v']],
    ['minItems', p({ type: 'array', minItems: 2 }), { v: [1] }, ['arguments.v']],
    ['maxItems', p({ type: 'array', maxItems: 1 }), { v: [1, 2] }, ['arguments.v']],
    ['keywords of other types do not apply', p({ minLength: 5, minimum: 3, minItems: 2 }), { v: true }, []],
    [
      'annotations are ignored',
      p({ type: 'string', title: 't', description: 'd', default: 'x', examples: ['x'], $comment: 'c' }),
      { v: 'x' },
      [],
    ],
  ])('%s', (_label, schemaIn, args, expected) => {
    expect(fieldsOf(schemaIn, args)).toEqual(expected);
  });

  it('a required name is an own property, never an inherited one (constructor, __proto__)', () => {
    const schemaIn = { type: 'object', properties: { constructor: {}, toString: {} }, required: ['constructor', 'toString'] };
    expect(fieldsOf(schemaIn, {})).toEqual(['arguments.constructor', 'arguments.toString']);
    expect(fieldsOf({ type: 'object', properties: {} }, JSON.parse('{"__proto__": {"x": 1}}') as Record<string, unknown>)).toEqual([
      'arguments.__proto__',
    ]);
  });

  it('paths of keys with / ~ % # and spaces come back as the keys', () => {
    expect(fieldsOf({ type: 'object', properties: {} }, { 'a/b ~%#': 1 })).toEqual(['arguments.a/b ~%#']);
  });

  it.each([
    [{ type: 'object', properties: { a: { type: 'string', format: 'uri' } } }, 'inputSchema.properties.a.format', 'unsupported-keyword'],
    [{ type: 'object', oneOf: [] }, 'inputSchema.oneOf', 'unsupported-keyword'],
    [{ type: 'object', $ref: '#/x' }, 'inputSchema.$ref', 'unsupported-keyword'],
    [{ type: 'object', patternProperties: { 'a+': {} } }, 'inputSchema.patternProperties', 'unsupported-keyword'],
    [{ type: 'object', additionalProperties: { type: 'string' } }, 'inputSchema.additionalProperties', 'invalid-keyword-value'],
    [{ type: 'string', pattern: '(' }, 'inputSchema.pattern', 'unsafe-pattern'],
    [{ type: 'string', pattern: 5 }, 'inputSchema.pattern', 'invalid-keyword-value'],
    [{ type: 'strin' }, 'inputSchema.type', 'invalid-keyword-value'],
    [{ type: 'string', maxLength: -1 }, 'inputSchema.maxLength', 'invalid-keyword-value'],
    [{ type: 'array', items: [{ type: 'string' }] }, 'inputSchema.items', 'invalid-keyword-value'],
    [{ type: 'object', required: 'a' }, 'inputSchema.required', 'invalid-keyword-value'],
    [{ type: 'object', properties: { a: { type: 'string', pattern: '^(a+)+$' } } }, 'inputSchema.properties.a.pattern', 'unsafe-pattern'],
  ])('refuses a keyword it would not enforce: %j', (schemaIn, path, kind) => {
    expect(inputSchemaProblem(schemaIn)).toMatchObject({ path, kind });
  });

  it('refuses a schema nested deeper than it checks', () => {
    let deep: Schema = { type: 'string' };
    for (let i = 0; i < 17; i++) deep = { type: 'object', properties: { a: deep } };
    expect(inputSchemaProblem(deep)).toMatchObject({ kind: 'too-deep' });
  });

  it('refuses a schema with more subschemas than it re-checks per call', () => {
    const wide = (n: number) => ({
      type: 'object',
      properties: Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, { type: 'string' }])),
    });
    expect(inputSchemaProblem(wide(INPUT_SCHEMA_MAX_SUBSCHEMAS - 1))).toBeNull();
    expect(inputSchemaProblem(wide(INPUT_SCHEMA_MAX_SUBSCHEMAS))).toEqual({
      kind: 'too-large',
      path: `inputSchema.properties.p${INPUT_SCHEMA_MAX_SUBSCHEMAS - 1}`,
    });
  });

  it('re-checks a stored schema before evaluating anything: an unsafe pattern never runs', () => {
    const check = validateArguments(p({ type: 'string', pattern: '^(a+)+$' }), { v: `${'a'.repeat(32)}!` });
    expect(check).toEqual({
      ok: false,
      kind: 'schema-refused',
      problem: { kind: 'unsafe-pattern', path: 'inputSchema.properties.v.pattern', rule: 'nested-quantifier' },
    });
  });
});

describe('argument limits (checked before the schema)', () => {
  const open = { type: 'object', additionalProperties: true };
  const nest = (depth: number): unknown => (depth <= 1 ? 'x' : [nest(depth - 1)]);
  it.each([
    ['a string at the cap', { s: 'a'.repeat(ARGUMENT_STRING_MAX_CHARS) }, null],
    ['a string over the cap', { s: 'a'.repeat(ARGUMENT_STRING_MAX_CHARS + 1) }, { limit: 'string-length', field: 'arguments.s' }],
    ['an array over the cap', { a: new Array(ARGUMENT_ARRAY_MAX_ITEMS + 1).fill(0) }, { limit: 'array-items', field: 'arguments.a' }],
    [
      'an object over the cap',
      { o: Object.fromEntries(Array.from({ length: ARGUMENT_OBJECT_MAX_PROPERTIES + 1 }, (_, i) => [`k${i}`, i])) },
      { limit: 'object-properties', field: 'arguments.o' },
    ],
    ['a key over the cap (not echoed)', { ['k'.repeat(ARGUMENT_KEY_MAX_CHARS + 1)]: 1 }, { limit: 'key-length', field: 'arguments' }],
    ['a key with a lone surrogate', { ['a\ud800']: 1 }, { limit: 'key-encoding', field: 'arguments' }],
    ['nesting at the cap', { d: nest(ARGUMENTS_MAX_DEPTH - 1) }, null],
    [
      'nesting over the cap',
      { d: nest(ARGUMENTS_MAX_DEPTH) },
      { limit: 'depth', field: `arguments.d${'.0'.repeat(ARGUMENTS_MAX_DEPTH - 1)}` },
    ],
    ['total size over the cap', { a: Array.from({ length: 9 }, () => 'é'.repeat(4000)) }, { limit: 'total-bytes', field: 'arguments' }],
  ])('%s', (_label, args, breach) => {
    const check = validateArguments(open, args);
    if (breach === null) expect(check).toEqual({ ok: true });
    else expect(check).toEqual({ ok: false, kind: 'over-limit', breach });
  });

  it('the total cap is in UTF-8 bytes of the JSON', () => {
    expect(JSON.stringify({ a: Array.from({ length: 9 }, () => 'é'.repeat(4000)) }).length).toBeLessThan(ARGUMENTS_MAX_BYTES);
  });
});

describe('on-miss allowlist', () => {
  it.each([
    ['/workspace/*', '/workspace/a.txt', true],
    ['/workspace/*', '/workspace', false],
    ['*.txt', 'a.txt', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['/workspace/*', '/workspace/a/b', false],
    ['/workspace/**', '/workspace/a/b', true],
    ['/workspace/**', '/workspace/../etc/shadow', false],
    ['/workspace/*', '/workspace/..', false],
    ['**', '..\\windows', false],
    ['a*', `a${'x'.repeat(5000)}`, false],
  ])('glob %s vs %s → %s', (glob, text, expected) => {
    expect(globMatches(glob, text)).toBe(expected);
  });

  it('an entry covers a call only when every argument it names matches', () => {
    const allowlist = [{ repo: 'octo/*', ref: 'main' }];
    expect(allowlistCovers(allowlist, { repo: 'octo/cat', ref: 'main' })).toBe(true);
    expect(allowlistCovers(allowlist, { repo: 'octo/cat', ref: 'dev' })).toBe(false);
    expect(allowlistCovers(allowlist, { repo: 'octo/cat' })).toBe(false);
    expect(allowlistCovers([], { repo: 'octo/cat' })).toBe(false);
  });
});
