// The warehouse contract, Lambda-safe (plain strings, no driver): tables and columns, the row of an invoice line, the
// migrations for Redshift and Postgres, and the one MERGE. A Postgres runner (`pg`) is under `./postgres`.
export * from './contract';
export * from './migrations';
export * from './merge';
export * from './batch';
export * from './ddl';
export * from './staged-load';
export * from './analytics-layer';
