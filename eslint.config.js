import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** What composes the serving side (and the native and framework packages only it loads). */
const COMPOSERS = [
  '**/runtimes/**',
  '**/adapters/**',
  '**/cli/**',
  '**/server.js',
  '**/loadgen/**',
  'onnxruntime-node',
  'sharp',
  'fastify',
];

/** A no-restricted-imports rule refusing `group`, with `message`. */
function noImports(group, message) {
  return { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] };
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'describe', 'it', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      // Arrow shorthands returning void (callbacks, loggers) read better than braces everywhere.
      '@typescript-eslint/no-confusing-void-expression': 'off',
      // Fastify route handlers are async by contract, whether or not they await.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The layering in STYLE.md: core is the domain and imports nothing outside core.
    files: ['src/core/**/*.ts'],
    ignores: ['src/core/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/adapters/**',
                '**/runtimes/**',
                '**/config/**',
                '**/cli/**',
                '**/server.js',
                '**/store/**',
                '**/deploy/**',
                '**/stats/**',
              ],
              message: 'core imports only core',
            },
            {
              group: ['fastify', '@fastify/*', 'onnxruntime-node', 'sharp', 'zod', 'node:*'],
              message: 'core has no frameworks, native addons or I/O',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/adapters/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/runtimes/**', 'onnxruntime-node', 'sharp'],
              message: 'adapters only convert wire formats; they never reach a runtime',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/runtimes/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/adapters/**', '**/cli/**', '**/server.js', '**/deploy/**', '**/loadgen/**'],
              message:
                'a runtime serves the core: it depends on core (and host, stats), never on what drives it',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/loadgen/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/runtimes/**', 'onnxruntime-node', 'sharp'],
              message: 'the load generator measures the server from outside; it never loads a runtime',
            },
          ],
        },
      ],
    },
  },
  {
    // Figures shared by runtimes (the engine benchmark) and loadgen: neither has to import the other's folder.
    files: ['src/stats/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^\\.\\./',
              message: 'stats is plain arithmetic on figures: it imports nothing from the rest of src',
            },
          ],
        },
      ],
    },
  },
  {
    // Deploy builds images and manifests: it never loads the model server, its runtimes or its wire adapters,
    // so `skiff build` and `skiff deploy` start without the ONNX addon.
    files: ['src/deploy/**/*.ts'],
    ignores: ['src/deploy/**/*.test.ts'],
    rules: noImports(COMPOSERS, 'deploy depends on config, core types, store and host only'),
  },
  {
    // The edges the serving side is built from: configuration, model files, the host, logging, telemetry.
    // None of them reaches up to what composes them.
    files: [
      'src/config/**/*.ts',
      'src/store/**/*.ts',
      'src/host/**/*.ts',
      'src/log/**/*.ts',
      'src/telemetry/**/*.ts',
    ],
    ignores: ['src/**/*.test.ts'],
    rules: noImports(
      [...COMPOSERS, '**/deploy/**'],
      'config, store, host, log and telemetry serve the composition root; they never import it',
    ),
  },
);
