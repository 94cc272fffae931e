// ESLint for the TypeScript in src/, test/ and dev/, and the CommonJS scripts in dev/. Formatting is
// Prettier's (.prettierrc): no stylistic rules here. `npm run lint` runs both.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  {
    // Build output, npm test's Node-RED 5 install, and what the tests and npm start write (ESLint does
    // not read .gitignore).
    ignores: ['nodes/**/*.js', 'resources/', 'dev/node-red-5/', 'test-artifacts/', '.node-red/', '.bench/'],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: 'error' },
  },
  js.configs.recommended,
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    languageOptions: {
      parserOptions: {
        // One program over tsconfig.check.json (src/, test/ and dev/, as npm test type-checks them), for
        // the three promise rules below, the only ones here that need types.
        project: './tsconfig.check.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A promise nobody awaits or catches: its rejection is unhandled, and Node.js ends the process.
      '@typescript-eslint/no-floating-promises': 'error',
      // A promise where a boolean or a void callback is expected: Node-RED ignores what an 'input'
      // listener returns, so an async one's rejection is unhandled too.
      '@typescript-eslint/no-misused-promises': 'error',
      // Templates and state answer at once or with a promise (a value or a promise each, by design:
      // BENCHMARKS.md), and Promise.all takes both.
      '@typescript-eslint/await-thenable': ['error', { allowMixedPromiseArrays: true }],
      // Node-RED's own idiom for a node's constructor: `const node = this;`.
      '@typescript-eslint/no-this-alias': ['error', { allowedNames: ['node'] }],
      // ioredis is required on first use, so that a Node-RED without a Shared state never loads it.
      '@typescript-eslint/no-require-imports': ['error', { allow: ['^ioredis$'] }],
      // `_` marks a parameter kept for its place in a signature; `const { a: _a, ...rest } = o` leaves a out.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    // The tests and dev tools require at run time what the build writes (nodes/*.js), the Node-RED
    // that NODE_RED_PACKAGE names and its core nodes, the examples' JSON, and modules on first use.
    files: ['test/**/*.ts', 'dev/**/*.ts'],
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // The tests read what Node-RED hands them (messages, helper.getNode's nodes, the log spy) and the
    // editor's window.RED in Chromium, none of which has types.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // The CommonJS scripts npm runs: build, test-all, runBench.
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: globals.node },
  },
  {
    files: ['eslint.config.mjs'],
    languageOptions: { globals: globals.node },
  },
);
