// The warehouse the local stack runs: the embedded PGlite server here, the Postgres runner from the warehouse package.
export * from './embedded';
export * from '@invoice-pipeline/warehouse/postgres';
export * from './staged-load';
