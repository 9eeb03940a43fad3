// Lint: typescript-eslint's recommended rules (type information on for no-floating-promises; the full
// recommendedTypeChecked preset is not on yet: it reports ~470 findings, 431 of them `!` assertions
// that only become necessary with tsconfig's noUncheckedIndexedAccess) plus the habits in STYLE.md
// (no floating promises, no any, no console in library code, named exports only).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// The floors (README, Layout): cli/ (and bin/) on top, then stages/, then pipeline/ at the bottom.
// An import may only point down: pipeline/ imports nothing from stages/ or cli/; a stage imports
// pipeline/ and its own folder; an orchestrating stage (reproduce, reference) may in addition call
// another stage's public entry, its run-*.ts file. Relative specifiers only, so the patterns see the
// folder an import climbs into. Lazy `import()` calls are checked too (no-restricted-syntax).
const CLI = { regex: '^(\\.\\./)+cli/', message: 'cli/ is the top floor: nothing below it imports it.' };
const STAGES = { regex: '^(\\.\\./)+stages/', message: 'pipeline/ is the ground floor: it never imports a stage. Move the shared contract into pipeline/.' };
const OTHER_STAGE = {
  regex: '^\\.\\./[^./][^/]*/',
  message: 'a stage imports pipeline/ and its own folder only: move what several stages share into pipeline/.',
};
const OTHER_STAGE_NOT_ENTRY = {
  regex: '^\\.\\./[^./][^/]*/(?!run-[^/]+\\.ts$)',
  message: "an orchestrating stage may import another stage's public entry (its run-*.ts) only.",
};
/** Rule entries for a floor: static imports via no-restricted-imports, lazy import() via no-restricted-syntax. */
function floor(...patterns) {
  return {
    'no-restricted-imports': ['error', { patterns: patterns.map((p) => ({ regex: p.regex, message: p.message })) }],
    'no-restricted-syntax': [
      'error',
      // esquery's /regex/ cannot hold a slash, so it is written \x2F there.
      ...patterns.map((p) => ({ selector: `ImportExpression > Literal[value=/${p.regex.replaceAll('/', '\\x2F')}/]`, message: p.message })),
    ],
  };
}
const LAYERING = {
  pipeline: floor(STAGES, CLI),
  stages: floor(OTHER_STAGE, CLI),
  orchestrators: floor(OTHER_STAGE_NOT_ENTRY, CLI),
};

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.scratch/**', 'artifacts/**', 'runs/**', '**/*.js', '!eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test's test()/describe() return promises that the runner itself awaits.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite'] }] },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  { files: ['pipeline/**/*.ts'], rules: LAYERING.pipeline },
  { files: ['stages/**/*.ts'], ignores: ['stages/reproduce/**', 'stages/reference/**'], rules: LAYERING.stages },
  { files: ['stages/reproduce/**/*.ts', 'stages/reference/**/*.ts'], rules: LAYERING.orchestrators },
  {
    // The CLI, benchmarks, tests and scripts are the places allowed to print.
    files: ['cli/**/*.ts', 'test/**/*.ts', 'artifacts/**/*.ts'],
    rules: { 'no-console': 'off' },
  },
);
