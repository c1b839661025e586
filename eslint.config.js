// ESLint flat config. The rules that matter most here:
// - no-floating-promises everywhere: an un-awaited promise in a workflow or activity is a lost error;
// - workflows/ may import only @temporalio/workflow, shared types and `import type` of activities,
//   because workflow code must stay deterministic and replayable;
// - the layers' direction (see the README's folder map), one block per folder: core/ and runtime/
//   import nothing of adloop's; decisions/ (pure decisions) only core/; ml/ those two; the
//   platform clients and the renderer only core/; db/ core/ and runtime/; reports/ what db/ may
//   and db/; activities/ everything below them; workers/ (the composition root) every production
//   folder; and no production folder imports the sandbox, the benchmarks, the scripts or the
//   tests.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = builtinModules.flatMap((m) => [m, `node:${m}`]);

/** adloop's top-level folders. */
const FOLDERS = [
  'activities',
  'bench',
  'cli',
  'core',
  'db',
  'decisions',
  'ml',
  'ops',
  'platforms',
  'render',
  'reports',
  'runtime',
  'sandbox',
  'scripts',
  'test',
  'workers',
  'workflows',
];
const DEV_ONLY = ['sandbox', 'bench', 'scripts', 'test'];
// cli/ is the operator's edge: on the embedded default (no real platform configured) `check` and
// `deploy plan` start the sandbox from the state `npm start` left, as npm start does.
const EDGE = ['cli'];
const PRODUCTION = FOLDERS.filter((f) => !DEV_ONLY.includes(f) && !EDGE.includes(f));

/** The import patterns of every top-level folder but `folder` and `allowed`. */
const foldersBut = (folder, allowed) =>
  FOLDERS.filter((f) => f !== folder && !allowed.includes(f)).map((f) => `**/${f}/**`);

/** A lint block: files under `folder` may import adloop code only from `allowed` (and itself). */
const onlyImports = (folder, allowed, why, extra = {}) => ({
  files: [`${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      { ...extra, patterns: [{ group: foldersBut(folder, allowed), message: why }] },
    ],
  },
});

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
    // Production code never reaches development tools (the sandbox's hidden truth among them).
    files: PRODUCTION.map((f) => `${f}/**/*.ts`),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: DEV_ONLY.map((f) => `**/${f}/**`),
              message:
                'Production code imports neither the sandbox, benchmarks, scripts nor tests.',
            },
          ],
        },
      ],
    },
  },
  onlyImports('core', [], 'core/ is the floor: it imports nothing of adloop’s.'),
  onlyImports('runtime', [], 'runtime/ is process plumbing: it imports nothing of adloop’s.'),
  onlyImports('decisions', ['core'], 'Pure decisions import only core/ (no I/O).', {
    paths: nodeBuiltins
      .filter((n) => n !== 'crypto' && n !== 'node:crypto')
      .map((name) => ({ name, message: 'Pure decisions do no I/O.' })),
  }),
  onlyImports('ml', ['core', 'decisions'], 'ml/ builds on core/ and decisions/ only.'),
  onlyImports('platforms', ['core'], 'Platform clients depend on core/ only.'),
  onlyImports('render', ['core'], 'The renderer depends on core/ only.'),
  onlyImports('db', ['core', 'runtime'], 'db/ stores and reads: it builds on core/ only.'),
  onlyImports('reports', ['core', 'db'], 'reports/ assemble what db/ reads; nothing above.'),
  onlyImports(
    'activities',
    ['core', 'runtime', 'decisions', 'ml', 'platforms', 'render', 'db', 'reports'],
    'Activities read, decide (decisions/, ml/) and write (db/, platforms/, render/).',
  ),
  onlyImports(
    'ops',
    ['core', 'platforms', 'workflows'],
    'ops/ drives Temporal (schedules, signals) and checks accounts; nothing of the worker’s.',
  ),
  onlyImports(
    'workers',
    PRODUCTION.filter((f) => f !== 'workers'),
    'Workers wire production parts together; the CLI and development tools sit above them.',
  ),
  onlyImports(
    'sandbox',
    ['core', 'platforms'],
    'The sandbox simulates the platforms: it shares only core/ and the platforms’ reference data.',
  ),
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
              group: [
                '**/db/**',
                '**/platforms/**',
                '**/workers/**',
                ...DEV_ONLY.map((f) => `**/${f}/**`),
              ],
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
