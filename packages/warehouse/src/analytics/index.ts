export * from './dialect';
export * from './queries';
export * from './run';
export * from './rejects';
