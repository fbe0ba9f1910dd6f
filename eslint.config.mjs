import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/node_modules/**', '**/.serverless/**', '**/.esbuild*/**', '**/.local/**', '**/dist/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.jest } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-control-regex': 'off',
    },
  },
  // serverless.yml's ${file()} loads these as CommonJS at package time.
  { files: ['services/*/config/*.js', 'packages/deploy/*.js'], languageOptions: { sourceType: 'commonjs' }, rules: { '@typescript-eslint/no-require-imports': 'off' } },
  // The dashboard's page script runs in the browser, with ECharts loaded before it.
  { files: ['packages/dashboard/public/**/*.js'], languageOptions: { sourceType: 'script', globals: { ...globals.browser, echarts: 'readonly' } } },
);
