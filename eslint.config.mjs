import js from '@eslint/js';
import tseslint from 'typescript-eslint';

import { layerRules } from './eslint.layers.cjs';

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
    files: ['*.js', '*.cjs', 'bin/**/*.js'],
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
  ...layerRules,
);
