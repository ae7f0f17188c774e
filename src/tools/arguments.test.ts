import { describe, expect, it } from 'vitest';
import { allowlistCovers, globMatches, substituteArgv, unsupportedSchemaKeyword, validateArguments } from './arguments';

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

describe('validateArguments (JSON Schema subset)', () => {
  const schema = { type: 'object', properties: { path: { type: 'string', pattern: '^/workspace/', maxLength: 20 }, n: { type: 'integer', minimum: 1, maximum: 5 }, mode: { enum: ['r', 'w'] } }, required: ['path'] };
  it.each([
    [{ path: '/workspace/a' }, []],
    [{ path: '/etc/passwd' }, ['arguments.path']],
    [{ path: '/workspace/a', n: 0 }, ['arguments.n']],
    [{ path: '/workspace/a', n: 1.5 }, ['arguments.n']],
    [{ path: '/workspace/a', mode: 'x' }, ['arguments.mode']],
    [{ path: '/workspace/a', extra: 1 }, ['arguments.extra']],
    [{}, ['arguments.path']],
  ])('%j → %j', (args, expected) => {
    expect(validateArguments(schema, args)).toEqual(expected);
  });

  it('a tool without inputSchema takes no arguments', () => {
    expect(validateArguments(undefined, {})).toEqual([]);
    expect(validateArguments(undefined, { a: 1 })).toEqual(['arguments']);
  });

  it.each([
    [{ type: 'object', properties: { a: { type: 'string', format: 'uri' } } }, 'inputSchema.properties.a.format'],
    [{ type: 'object', oneOf: [] }, 'inputSchema.oneOf'],
    [{ type: 'object', $ref: '#/x' }, 'inputSchema.$ref'],
    [{ type: 'object', additionalProperties: { type: 'string' } }, 'inputSchema.additionalProperties'],
    [{ type: 'string', pattern: '(' }, 'inputSchema.pattern'],
  ])('refuses a keyword it would not enforce: %j', (schemaIn, path) => {
    expect(unsupportedSchemaKeyword(schemaIn)).toBe(path);
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
