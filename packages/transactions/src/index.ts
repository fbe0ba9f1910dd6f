// The Lambda-safe contract: what an invoice is, exact money, validation and the API's replies. Nothing here reads
// files or pulls a CSV parser, so a handler bundle stays small; file and dataset tooling is in `./files`.
export * from './money';
export * from './schemas';
export * from './sink-limits';
export * from './storage-layout';
export * from './validation';
export * from './version';
export * from './api';
export * from './api-keys';
export * from './read-api';
