import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const WORKERPOOL = {
  regex: '^workerpool$',
  message: 'workerpool is imported only by the pool client (src/executors/pool/) and the worker entry (src/worker/).',
};

const BULLMQ = {
  regex: '^(bullmq|ioredis)($|/)',
  message:
    'bullmq and ioredis are optional: only the queue executor (src/executors/queue/) and the CLI load them, with import().',
};

/** One config block per seam: `forbid` lists the import patterns its files may not use. */
function seams(blocks) {
  return blocks.map(({ forbid, ...block }) => ({
    ...block,
    rules: { '@typescript-eslint/no-restricted-imports': ['error', { patterns: forbid }] },
  }));
}

export default tseslint.config(
  { ignores: ['dist/', '.build/', 'node_modules/', 'scratch/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Template literals with numbers are how messages are built here.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', name: ['describe', 'it', 'test', 'suite'], package: 'node:test' },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      // `{}` as a default type argument means "no options given".
      '@typescript-eslint/no-empty-object-type': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Whatever a shard threw is passed on as it was: users may throw non-Errors.
      '@typescript-eslint/prefer-promise-reject-errors': 'off',
      '@typescript-eslint/no-unnecessary-type-parameters': 'off',
    },
  },
  // The seams between the layers (decorators → engine → executors → worker entry). Each block
  // lists everything its files may not import, because a later block's rule replaces an earlier one's.
  ...seams([
    {
      files: ['src/**'],
      ignores: ['src/executors/pool/**', 'src/worker/**'],
      forbid: [WORKERPOOL, BULLMQ],
    },
    {
      files: ['src/engine/**'],
      forbid: [
        WORKERPOOL,
        BULLMQ,
        {
          regex: '(^|/)executors/(?!executor\\.js$)',
          message: 'The engine knows executors only by their contract, executors/executor.ts.',
        },
        { regex: '(^|/)(decorators|wire|worker)/', message: 'The engine does not reach past the executor contract.' },
      ],
    },
    {
      files: ['src/decorators/**'],
      forbid: [
        WORKERPOOL,
        BULLMQ,
        {
          regex: '(^|/)engine/(?!(dispatch|shards)\\.js$)',
          message: 'Decorators only decorate: they hand calls to engine/dispatch.ts.',
        },
        { regex: '(^|/)(wire|worker)/|(^|/)executors/(?!executor\\.js$)', message: 'Decorators only decorate.' },
      ],
    },
    {
      files: ['src/parallel.ts'],
      forbid: [
        WORKERPOOL,
        BULLMQ,
        { regex: '(^|/)decorators/', message: 'parallel() calls the engine, not the decorators.' },
      ],
    },
    {
      files: ['src/wire/**'],
      forbid: [
        WORKERPOOL,
        BULLMQ,
        {
          regex: '(^|/)(executors|worker|engine|decorators)/',
          message: 'What crosses the boundary serves both sides and imports neither.',
        },
      ],
    },
    {
      files: ['src/worker/**'],
      forbid: [BULLMQ, { regex: '(^|/)executors/pool/', message: 'The worker entry does not import the pool client.' }],
    },
    {
      // Importing parafor must not load workerpool: the pool client is loaded by the first call.
      files: ['src/executors/pool/executor.ts'],
      forbid: [
        {
          regex: '^\\./(?!executor\\.js$)',
          allowTypeImports: true,
          message: 'The pool executor loads the rest of the pool client lazily, with import().',
        },
      ],
    },
    {
      files: ['src/executors/pool/**'],
      ignores: ['src/executors/pool/executor.ts'],
      forbid: [BULLMQ],
    },
    {
      // bullmq and ioredis are loaded by load.ts with import(), so a missing one is told in words.
      files: ['src/executors/queue/**', 'src/cli/**'],
      forbid: [{ ...BULLMQ, allowTypeImports: true }],
    },
    {
      // Importing parafor/queue loads BullMQ and this file only: the rest comes with the first call.
      files: ['src/executors/queue/executor.ts'],
      forbid: [
        { ...BULLMQ, allowTypeImports: true },
        {
          regex: '^\\./(?!(executor|load|options)\\.js$)',
          allowTypeImports: true,
          message: 'The queue executor loads the rest of its folder lazily, with import().',
        },
      ],
    },
  ]),
  {
    files: ['test/**', 'bench/**', 'examples/**'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unused-expressions': 'off',
      '@typescript-eslint/no-extraneous-class': 'off',
      '@typescript-eslint/class-methods-use-this': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
