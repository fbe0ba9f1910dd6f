/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS: the Serverless Framework loads this file as it is. */
// Values for serverless.yml (`${file(../../packages/warehouse/serverless.js):stagingTable}`), taken from the same
// file the TypeScript contract reads, so the staging table and Firehose's COPY column list are written once.
const tables = require('./src/tables.json');

module.exports = {
  stagingTable: tables.staging,
  copyColumns: tables.columns.map((column) => column.name).join(','),
};
