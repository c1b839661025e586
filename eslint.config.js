// ESLint flat config. Two rules matter most here:
// - no-floating-promises everywhere: an un-awaited promise in a workflow or activity is a lost error;
// - workflows/ may import only @temporalio/workflow, shared types and `import type` of activities,
//   because workflow code must stay deterministic and replayable.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

export default tseslint.config(
  { ignores: ['node_modules/', '.tools/', '.data/', 'out/', 'scratch/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises the runner itself awaits.
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // Kysely's convention: migrations are written against Kysely<any>, frozen in time.
    files: ['db/migrations/**/*.ts', 'db/migrate.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Activities are plain functions (the factory's methods never use `this`); tests pass them
    // around unbound exactly as the worker does.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/unbound-method': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            ...nodeBuiltins.map((name) => ({ name, message: 'Workflows must be deterministic.' })),
            { name: 'pg', message: 'Workflows must not touch the database; use an activity.' },
            { name: 'kysely', message: 'Workflows must not touch the database; use an activity.' },
          ],
          patterns: [
            {
              group: ['**/db/**', '**/platforms/**', '**/sandbox/**', '**/workers/**'],
              message: 'Workflows may only import @temporalio/workflow and shared types.',
            },
            {
              group: ['**/activities/**'],
              allowTypeImports: true,
              message: 'Import activities in workflows with `import type` only.',
            },
          ],
        },
      ],
    },
  },
);
