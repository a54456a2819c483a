// Lint: typescript-eslint's recommended rules, type-only imports, the dependency rule that
// keeps domain/ pure (no SDKs, no environment, no clock, no randomness), and the rooms rule:
// the deployable app (functions/, domain/) never imports the local runtime package or tools/,
// by name or by relative path (docs/architecture.md).
import tseslint from 'typescript-eslint';

/** What the app may not import: it ships alone, without the runtime package or the tools. */
const APP_ROOM_PATTERNS = [
  {
    group: ['@fabrikam/functions-local', '@fabrikam/functions-local/*', '**/packages/**', 'packages/**'],
    message:
      'functions/ and domain/ are the deployable app: they never import the local runtime (packages/functions-local).',
  },
  {
    group: ['**/tools/**', 'tools/**'],
    message: 'functions/ and domain/ are the deployable app: they never import tools/.',
  },
];

export default tseslint.config(
  {
    ignores: [
      'dist/**',
      'dist-tools/**',
      'packages/*/dist/**',
      'node_modules/**',
      '.ci/**',
      'coverage/**',
      '.data/**',
      'bench/**',
      'console/dist/**',
    ],
  },
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['functions/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: APP_ROOM_PATTERNS }] },
  },
  {
    files: ['domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['@azure/*', 'durable-functions', 'durable-functions/*'],
              message: 'domain/ is pure: SDKs belong in functions/adapters.',
            },
            {
              group: ['node:*', 'fs', 'http', 'https', 'net', 'crypto', 'os', 'child_process'],
              message: 'domain/ is pure: no Node I/O modules.',
            },
            {
              group: ['../../functions/*', '../../tools/*', '**/functions/**', '**/tools/**'],
              message: 'domain/ depends on nothing outside itself.',
            },
            ...APP_ROOM_PATTERNS,
          ],
        },
      ],
      'no-restricted-properties': [
        'error',
        { object: 'process', property: 'env', message: 'domain/ reads no environment: config comes in as arguments.' },
        { object: 'Date', property: 'now', message: 'domain/ has no clock: time comes in as an argument.' },
        { object: 'Math', property: 'random', message: 'domain/ has no randomness: ids come in as arguments.' },
        { object: 'crypto', property: 'randomUUID', message: 'domain/ has no randomness: ids come in as arguments.' },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'domain/ reads no process state.' }],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Date'][arguments.length=0]",
          message: 'domain/ has no clock: time comes in as an argument.',
        },
      ],
    },
  },
);
