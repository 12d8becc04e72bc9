import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/** onnxruntime-node is loaded through `inference/providers/onnxruntime` only: its telemetry is off there. */
const ORT = {
  name: 'onnxruntime-node',
  message: "Import { ort } from 'inference/providers/onnxruntime' (it turns the library's telemetry off first).",
  allowTypeImports: true,
};

export default tseslint.config(
  { ignores: ['dist/**', 'dist-renderer/**', 'node_modules/**', 'models/**', 'tools/**', 'coverage/**', 'bench/out/**', 'e2e-output/**', 'test-output/**', '.cache/**', 'release/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // Layering (VS Code style): geo, inference and shared never import Electron or the renderer.
    files: ['src/geo/**', 'src/inference/**', 'src/shared/**', 'src/cli/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['electron', ORT], patterns: ['**/renderer/**', '**/main/electron/**'] }],
    },
  },
  {
    // The one module that loads onnxruntime-node (after turning its telemetry off).
    files: ['src/inference/providers/onnxruntime.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['electron'], patterns: ['**/renderer/**', '**/main/electron/**'] }],
    },
  },
  {
    files: ['src/main/**'],
    rules: { 'no-restricted-imports': ['error', { paths: [ORT] }] },
  },
  {
    // The contract (src/shared) owns its schemas: it imports no runtime code at all.
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['electron'], patterns: ['**/renderer/**', '**/main/**', '**/inference/**', '**/geo/**', '**/cli/**', 'node:*'] },
      ],
    },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
