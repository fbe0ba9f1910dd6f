import type { Config } from 'jest';

/** One Jest project per workspace package; `pnpm test` runs them all. Integration tests start real local emulators. */
const swc: Config['transform'] = {
  '^.+\\.ts$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
  // ESM-only dependencies (middy 6) are compiled to CommonJS like our own code.
  '^.+\\.m?js$': ['@swc/jest', { jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022' }, module: { type: 'commonjs' } }],
};

const workspaces = [
  'packages/transactions',
  'packages/retry',
  'packages/function-config',
  'packages/warehouse',
  'packages/dashboard',
  'packages/local-emulators',
  'packages/local-firehose',
  'packages/local-stack',
  'packages/pos-simulator',
  'packages/deploy',
  'services/ingest',
  'services/stream-processor',
  'services/batch-loader',
  'packages/local-glue',
  'scripts',
  // The whole local pipeline end to end (both paths into one warehouse): above every package it starts.
  'test',
];

const config: Config = {
  // Two suites at a time, also on a 2-core machine: the slow suites mostly wait on emulators, serverless-offline and
  // the warehouse (other processes), so a second worker overlaps that waiting instead of doubling the CPU demand.
  maxWorkers: 2,
  projects: workspaces.map((root) => ({
    displayName: root.split('/').pop(),
    rootDir: `<rootDir>/${root}`,
    testEnvironment: 'node',
    transform: swc,
    testMatch: ['<rootDir>/**/*.test.ts'],
    testPathIgnorePatterns: ['/node_modules/', '/.serverless/', '/.esbuild'] /* also the per-run .esbuild-* folders */,
    transformIgnorePatterns: ['/node_modules/(?!(\\.pnpm|@middy)/)'],
  })),
};

export default config;
