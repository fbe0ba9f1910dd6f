// File and dataset tooling (`@invoice-pipeline/transactions/files`): CSV readers for every source layout, invoice
// grouping, totals and the bundled dataset. For the CLI, the simulator, the local stack and tests, never for Lambda.
export * from './source-rows';
export * from './group-invoices';
export * from './tally';
export * from './dataset';
export * from './summarise';
export * from './example-invoice';
