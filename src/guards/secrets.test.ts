import { describe, expect, it } from 'vitest';
import { guardInboundSecrets, guardReplySecrets, scanSecrets, SECRET_REDACTED } from './secrets';

// Made-up keys of the right shape, built from parts so no file holds anything key-like whole.
const fake = (prefix: string, unit: string, times: number) => prefix + unit.repeat(times);
const KEYS: [string, string][] = [
  ['aws-access-key-id', 'AKIAIOSFODNN7EXAMPLE'],
  ['aws-access-key-id', fake('ASIA', 'Q7ZX', 4)],
  ['aws-secret-access-key', `aws_secret_access_key = ${fake('', 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY/+', 1)}`],
  ['github-token', fake('ghp_', 'a1B2c3D4e5F6', 3)],
  ['github-token', fake('gho_', 'Zz09', 10)],
  ['github-token', fake('github_pat_', '11ABCDEFG0', 4)],
  ['slack-token', fake('xoxb-', '1234567890-', 3)],
  ['slack-token', fake('xoxp-', 'a1b2c3d4e5', 2)],
  ['slack-webhook', 'https://hooks.slack.com/services/T0000FAKE/B0000FAKE/' + fake('', 'abcdEFGH', 3)],
  ['anthropic-api-key', fake('sk-ant-api03-', 'Ab3_-x', 10)],
  ['openai-api-key', fake('sk-proj-', 'Q1w2E3r4T5', 5)],
  ['openai-api-key', fake('sk-', 'abcdEFGH1234', 4)],
  ['stripe-secret-key', fake('sk_live_', '51Hx9a', 5)],
  ['stripe-secret-key', fake('rk_test_', '51Hx9a', 5)],
  ['google-api-key', 'AIza' + fake('', 'SyD-1_abcdefg', 2) + 'HIJKLMNOP'],
  ['private-key', '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nfakefakefake\n-----END RSA PRIVATE KEY-----'],
  ['private-key', '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----'],
  ['private-key', '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI (truncated, no END line)'],
  ['private-key', '-----BEGIN PGP PRIVATE KEY BLOCK-----\nlQOYBF0fake\n-----END PGP PRIVATE KEY BLOCK-----'],
  ['jwt', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.' + fake('', 'dBjftJeZ4CVP', 3)],
  ['portcullis-api-key', fake('pcl_', 'k3y_', 8)],
  ['authorization-value', 'Authorization: Bearer ' + fake('', 'abc123', 5)],
];

describe('scanSecrets', () => {
  it.each(KEYS)('finds a %s and removes it from the text', (kind, key) => {
    const text = `please use this: ${key} thanks`;
    const scan = scanSecrets(text);
    expect(scan.found).toBe(true);
    expect(scan.kinds).toContain(kind);
    expect(scan.redacted).toContain(SECRET_REDACTED);
    expect(scan.redacted).toContain('please use this:');
    // No part of the secret's body survives (the label of a labelled form may).
    const body = key.replace(/^(?:aws_secret_access_key = |Authorization: )/, '');
    expect(scan.redacted).not.toContain(body);
  });

  it('names an Anthropic key as such, not as an OpenAI key', () => {
    expect(scanSecrets(fake('sk-ant-api03-', 'Ab3_-x', 10)).kinds).toEqual(['anthropic-api-key']);
  });

  // Attempts to get a key past the scan.
  const bypasses: [string, string][] = [
    ['zero-width space inside the key', fake('ghp_', 'a1B2c3D4e5F6', 1) + '\u200b' + fake('', 'a1B2c3D4e5F6', 2)],
    ['word joiner inside an AWS id', 'AKIAIOSF\u2060ODNN7EXAMPLE'],
    ['soft hyphen inside an OpenAI key', 'sk-proj-\u00ad' + fake('', 'Q1w2E3r4T5', 5)],
    ['key inside JSON', JSON.stringify({ token: fake('xoxb-', '1234567890-', 3) })],
    ['key inside a URL', `https://example.com/cb?key=${fake('sk_live_', '51Hx9a', 5)}&x=1`],
    ['two keys, the second hidden', `AKIAIOSFODNN7EXAMPLE and ${fake('ghp_', 'a1B2c3', 3)}\u200b${fake('', 'a1B2c3', 3)}`],
  ];

  it.each(bypasses)('still finds a key: %s', (_name, text) => {
    const scan = scanSecrets(text);
    expect(scan.found).toBe(true);
    expect(scan.redacted).toContain(SECRET_REDACTED);
    expect(scan.redacted.replace(/[\u200b\u2060\u00ad]/g, '')).not.toMatch(/AKIAIOSFODNN7EXAMPLE|ghp_a1B2|xoxb-1234|sk_live_51|sk-proj-Q1/);
  });

  const benign: [string, string][] = [
    ['prose', 'Can you summarise the pull request and list the failing tests?'],
    ['basic/bearer in prose', 'I have a basic understanding of Bearer authentication and Basic auth schemes.'],
    ['a commit hash', 'Fixed in 3f9a2c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39.'],
    ['a UUID', 'Request id 123e4567-e89b-12d3-a456-426614174000 failed.'],
    ['words that start like prefixes', 'The skeleton task uses sk-learn; AKIA is a word; ghp is short.'],
    ['a short sk- word', 'Ask sk-team about it.'],
    ['a public key', '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----'],
    [
      'base64 of an image',
      'data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==',
    ],
    ['a JWT-like word', 'eyJ is how base64 JSON starts.'],
    ['non-Latin text', 'Привет! Как настроить ключ доступа?'],
  ];

  it.each(benign)('passes benign text untouched: %s', (_name, text) => {
    expect(scanSecrets(text)).toEqual({ found: false, kinds: [], redacted: text });
  });
});

describe('guardInboundSecrets / guardReplySecrets', () => {
  const key = fake('ghp_', 'a1B2c3D4e5F6', 3);

  it('block: the model gets the text without the key and the user is told, kinds only', () => {
    const result = guardInboundSecrets(`deploy with ${key}`, 'block');
    expect(result.text).toBe(`deploy with ${SECRET_REDACTED}`);
    expect(result.verdict).toEqual({ guard: 'secrets', mode: 'block', outcome: 'blocked', reasons: ['github-token'] });
    expect(result.notice).toContain('github-token');
    expect(result.notice).not.toContain(key);
    expect(JSON.stringify(result.verdict)).not.toContain(key);
  });

  it('warn records and changes nothing; off does not even look', () => {
    expect(guardInboundSecrets(key, 'warn')).toEqual({
      text: key,
      verdict: { guard: 'secrets', mode: 'warn', outcome: 'warned', reasons: ['github-token'] },
      notice: null,
    });
    expect(guardInboundSecrets(key, 'off').verdict.outcome).toBe('pass');
    expect(guardReplySecrets(key, 'off').text).toBe(key);
  });

  it('a reply in block mode never carries the key', () => {
    const result = guardReplySecrets(`Sure, the token is ${key}.`, 'block');
    expect(result.text).toBe(`Sure, the token is ${SECRET_REDACTED}.`);
    expect(result.verdict.outcome).toBe('blocked');
  });

  it('benign text passes in every mode', () => {
    for (const mode of ['off', 'warn', 'block'] as const) {
      expect(guardInboundSecrets('hello there', mode)).toEqual({
        text: 'hello there',
        verdict: { guard: 'secrets', mode, outcome: 'pass', reasons: [] },
        notice: null,
      });
    }
  });
});
