// Lint rules from the house style: no floating promises, type-only imports spelled as such,
// and a hard determinism boundary around workflows/ (no Node builtins, no I/O libraries).
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
];

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.tools/**', '.state/**', '.test-artifacts/**', 'eslint.config.js', 'bin/**'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommendedTypeChecked],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
    },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.flatMap((name) => [
              { name, message: 'Workflow code is deterministic: no Node builtins.' },
              { name: `node:${name}`, message: 'Workflow code is deterministic: no Node builtins.' },
            ]),
            { name: '@temporalio/activity', message: 'Workflows call activities through proxyActivities only.' },
            { name: '@temporalio/client', message: 'Workflows never use the client.' },
            { name: '@temporalio/worker', message: 'Workflows never import the worker.' },
          ],
          patterns: [
            { group: ['@aws-sdk/*', 'parquet-wasm', 'apache-arrow'], message: 'No I/O or data libraries in workflow code: pass URIs and manifests.' },
            { group: ['../activities/*', '../activities/**'], allowTypeImports: true, message: 'Import activities as types only.' },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'process', message: 'Workflow code is deterministic: no process.' },
        { name: 'setImmediate', message: 'Use workflow sleep.' },
      ],
    },
  },
);
