// Lint rules that keep the architecture honest: package boundaries, typed errors, no `any`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', '.turbo/**', 'packages/lua-resty-staple/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['@staplewarm/*/src/*', '@staplewarm/*/dist/*'], message: 'Import a package through its public index.' }],
        },
      ],
    },
  },
  {
    // Only packages/ocsp (and the simulator, which plays the CA) speak ASN.1; everyone else sees our types.
    files: ['packages/**/*.ts', 'apps/staplewarm/**/*.ts'],
    ignores: ['packages/ocsp/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'pkijs', message: 'Only packages/ocsp imports pkijs.' },
            { name: 'asn1js', message: 'Only packages/ocsp imports asn1js.' },
          ],
          patterns: [{ group: ['@staplewarm/*/src/*', '@staplewarm/*/dist/*'], message: 'Import a package through its public index.' }],
        },
      ],
    },
  },
  {
    // Libraries log through a logger passed in by the caller, never the console.
    files: ['packages/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
);
