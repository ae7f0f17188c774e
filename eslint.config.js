import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/', '.wrangler/', 'dist/', 'migrations/meta/', 'bench-results/', 'test/fixtures/', '.cache/', '.local-runner/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Secrets and ids are compared with constant-time helpers; == invites coercion bugs.
      eqeqeq: ['error', 'always'],
      'no-console': ['error', { allow: ['error', 'warn', 'log'] }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/*.mjs', 'scripts/**', 'bin/**'],
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        fetch: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        Buffer: 'readonly',
      },
    },
  },
  {
    // The dashboard's one browser script (src/dashboard/assets/live-updates.js.txt), served as text.
    files: ['src/dashboard/assets/*.js.txt'],
    languageOptions: {
      sourceType: 'script',
      globals: { document: 'readonly', location: 'readonly', WebSocket: 'readonly', setTimeout: 'readonly' },
    },
  },
  {
    // src/policy/ is shared by the Worker, the CLI and the runner: no platform, no app imports.
    files: ['src/policy/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^\\.\\./(?!lib(/|$))', message: 'src/policy may import only from src/lib.' },
            { regex: '^(cloudflare:|node:|hono)', message: 'src/policy is pure.' },
          ],
        },
      ],
    },
  },
);
