// `@invoice-pipeline/warehouse/postgres`: the Postgres side of the dialect seam, run by the local stack and by anyone
// pointing WAREHOUSE_URL at a real Postgres: migrations, COPY-equivalent loads and the one MERGE over a SQL session.
export * from './warehouse';
export * from './connect';
export * from './insert-rows';
