export * from './analytics';
export * from './format';
export * from './s3-rejects';
export * from './server';
export * from './snapshot';
export * from './connect';
export * from './local';
