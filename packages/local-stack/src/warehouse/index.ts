export * from './loader';
export * from './warehouse';
export * from './embedded';
export * from './postgres';
