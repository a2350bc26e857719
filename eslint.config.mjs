import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Layers (DESIGN.md "Layout"): each folder imports only from the folders below it, so the arrows
 * stay down. A rule per layer lists what it must never reach up to.
 */
const up = (...groups) => [
  'error',
  { patterns: groups.map((group) => ({ group: group.patterns, message: group.message, allowTypeImports: group.allowTypeImports === true })) },
];
const HOST = { patterns: ['@azure/functions', '**/functions/**'], message: 'shared/ is host-free: the Functions adapters live in functions/.' };
const ENTRY = { patterns: ['**/cli/**', '**/scripts/**', '**/sim/**', '**/test/**'], message: 'Entry points (cli, scripts), the simulator and tests sit above the product.' };
const WEB = { patterns: ['**/web/**', '**/web'], message: 'shared/web serves HTTP; nothing below it imports it.' };
const APP = { patterns: ['**/app/**', '**/app'], message: 'shared/app is the composition root; only entry points (functions, cli, web) import it.' };
const SERVICES = { patterns: ['**/services/**', '**/services'], message: 'Use cases (shared/services) sit above the adapters and the pure core.' };
const ADAPTERS = {
  patterns: [
    '**/store/**', '**/store', '**/queue/**', '**/queue', '**/graph/**', '**/graph', '**/exchange/**', '**/exchange',
    '**/teams/**', '**/teams', '**/http/**', '**/http', '**/tenant/**', '**/tenant',
  ],
  message: 'The pure core (domain, config, rules, lifecycle, remediation) does no I/O: reach adapters through ports in shared/domain.',
  // The shapes of what adapters return may be named; their code may not run here.
  allowTypeImports: true,
};
const PRODUCT_FACTS = {
  patterns: ['**/shared/rules/**', '**/shared/config/**', '**/shared/domain/**', '**/shared/remediation/**'],
  message: "The simulated tenant keeps its own copy of Microsoft's facts: an oracle that imports the product's rules, policy or action lists moves with the product.",
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', '.ci/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'off',
    },
  },
  {
    files: ['*.js', 'bin/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { module: 'writable', require: 'readonly', process: 'readonly', __dirname: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['shared/**/*.ts', 'functions/**/*.ts'],
    ignores: ['shared/cli/**'],
    rules: { 'no-console': 'error' },
  },
  // Typed rules for the product (tests keep the untyped set: fakes and partial objects are their trade).
  ...tseslint.configs.recommendedTypeChecked.map((config) => ({ ...config, files: ['{shared,functions,sim,scripts}/**/*.ts'] })),
  {
    files: ['{shared,functions,sim,scripts}/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      // Inside try/catch an un-awaited return would escape the catch; elsewhere either reads fine.
      '@typescript-eslint/return-await': ['error', 'in-try-catch'],
      // An async function that does not await still turns a synchronous throw into a rejection,
      // which is exactly what a Promise-returning port promises its callers.
      '@typescript-eslint/require-await': 'off',
    },
  },
  { files: ['functions/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': up(ENTRY) } },
  { files: ['shared/cli/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': up(HOST, { patterns: ['**/scripts/**', '**/sim/**', '**/test/**'], message: ENTRY.message }) } },
  { files: ['shared/web/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': up(HOST, ENTRY) } },
  { files: ['shared/app/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': up(HOST, ENTRY, WEB) } },
  { files: ['shared/services/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': up(HOST, ENTRY, WEB, APP) } },
  {
    files: ['shared/{store,queue,graph,exchange,teams,http,approval,tenant}/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': up(HOST, ENTRY, WEB, APP, SERVICES) },
  },
  {
    files: ['shared/{domain,config,rules,lifecycle,remediation,errors}/**/*.ts', 'shared/logging.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': up(HOST, ENTRY, WEB, APP, SERVICES, ADAPTERS) },
  },
  { files: ['sim/**/*.ts'], rules: { '@typescript-eslint/no-restricted-imports': up(PRODUCT_FACTS) } },
);
