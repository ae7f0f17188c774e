import { describe, expect, it } from 'vitest';
import { PATTERN_MAX_CHARS, type PatternRule, unsafePatternRule } from './pattern-safety';

describe('unsafePatternRule: what a backtracking engine could be made to run for long is refused', () => {
  it.each<[string, PatternRule]>([
    // The classics (exponential).
    ['^(a+)+$', 'nested-quantifier'],
    ['^(a*)*$', 'nested-quantifier'],
    ['^(?:a{1,3}){1,3}$', 'nested-quantifier'],
    ['^([a-z]+\\d?)*$', 'nested-quantifier'],
    ['^(a|a)*$', 'quantified-alternation'],
    ['^(a|b)+$', 'quantified-alternation'],
    ['^(?:x(?:a|b))+$', 'quantified-alternation'],
    ['^(\\w|\\d)+$', 'quantified-alternation'],
    ['^(a)\\1$', 'backreference'],
    ['^(?<x>a)\\k<x>$', 'backreference'],
    ['^a(?=b)', 'lookaround'],
    ['^a(?!b)', 'lookaround'],
    ['(?<=a)b', 'lookaround'],
    ['(?<!a)b', 'lookaround'],
    // Exponential without a quantified group: chained ambiguous alternations, optional runs.
    ['^(?:a|a)(?:a|a)(?:a|a)(?:a|a)x$', 'ambiguous-alternation'],
    ['^(?:ab|ac)$', 'ambiguous-alternation'],
    ['^(?:a|)b$', 'ambiguous-alternation'],
    ['^(?:^|/)b$', 'ambiguous-alternation'],
    ['^a?a?a?a?a?a?a?a?a?a?aaaaaaaaaa$', 'overlapping-quantifiers'],
    // Polynomial: overlapping runs, and unanchored long runs (re-run from every start).
    ['^a*a*b$', 'overlapping-quantifiers'],
    ['^\\d*[0-5]\\d*$', 'overlapping-quantifiers'],
    ['^.*x.*y$', 'overlapping-quantifiers'],
    ['^\\w+\\d+$', 'overlapping-quantifiers'],
    ['^a*b?a*$', 'overlapping-quantifiers'],
    ['^a*(?:b|a+)$', 'overlapping-quantifiers'],
    ['^\\p{L}+-\\p{L}+$', 'overlapping-quantifiers'],
    ['a*b', 'unanchored-quantifier'],
    ['[a-z]+$', 'unanchored-quantifier'],
    ['^a+$|b+', 'unanchored-quantifier'],
    ['(?:^a+)', 'unanchored-quantifier'],
    // Not patterns this engine runs the same way, or at all.
    ['(', 'syntax'],
    ['[', 'syntax'],
    ['a{2,1}', 'syntax'],
    ['\\c', 'syntax'],
    ['(?i:a)', 'syntax'],
    ['\\q{ab}', 'syntax'],
    ['\\u{110000}', 'syntax'],
    ['x'.repeat(PATTERN_MAX_CHARS + 1), 'too-long'],
  ])('%s → %s', (pattern, rule) => {
    expect(unsafePatternRule(pattern)).toBe(rule);
  });

  it.each([
    '^/workspace/',
    '^/workspace/.*$',
    '^[a-z0-9-]+$',
    '^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$',
    '^\\d+\\.\\d+\\.\\d+$',
    '^\\d{4}-\\d{2}-\\d{2}$',
    '^[a-z]+[0-9]+$',
    '^(?:foo|bar)-[0-9]+$',
    '^(?:ab)+c$',
    '^\\p{Lu}$',
    '^.*\\.txt$',
    '\\.txt$',
    'colou?r',
    '[a-z]{1,16}',
    '^a*b*c*$',
    '^(?:[a-z]+|[0-9]+)$',
    // Under the u flag (what runs) this is the class {a, &, b}, not a v-flag intersection.
    '[a&&b]',
    'x'.repeat(PATTERN_MAX_CHARS),
  ])('accepts %s', (pattern) => {
    expect(unsafePatternRule(pattern)).toBeNull();
  });

  it('what it accepts compiles with the u flag, as the validator compiles it', () => {
    expect(() => new RegExp('^\\p{Lu}$', 'u')).not.toThrow();
    expect(unsafePatternRule('^\\p{Lu}$')).toBeNull();
  });
});
