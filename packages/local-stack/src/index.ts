// The local stack: starts and wires the emulators (npm's, the local Firehose, the embedded warehouse), provisions the
// services' own definitions and runs them. Test starters are under `./testing`; the endpoints file under `./endpoints`.
export * from '@invoice-pipeline/local-emulators';
export * from './endpoints';
export * from './ports';
export * from './provision';
export * from './service-definitions';
export * from './stack';
export * from './warehouse';
export * from './kinesis-event-source';
export * from './reconcile';
export * from './pipeline';
export * from './dumps-trigger';
export * from './offline';
export * from './lambda-runner';
export * from './local-sqs';
